// Cluster directory discovery (profile_readers.h find_profiles / for_each_profile): the input is a
// small directory tree, entries separated by 0x1e, each "relative/path" 0x1f "content"; path
// components are cut to [A-Za-z0-9_.-] (no "..", at most 6 deep, 24 entries). The tree is made in
// a fresh directory, found and read. Invariants: every location is a directory or file of the
// tree, ranks come sorted (known ones first), and reading fails only with an InputError.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_support.h"
#include "profile/profile_readers.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = [] {
    char name[] = "/tmp/pt_cluster_fuzz_XXXXXX";
    if (!mkdtemp(name)) pt::fuzz::invariant_failed("mkdtemp failed");
    return std::string(name);
  }();
  const std::string tree = root + "/t";
  std::error_code ec;
  fs::remove_all(tree, ec);
  fs::create_directories(tree);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  for (int entries = 0; start <= input.size() && entries < 24; ++entries) {
    const size_t end = std::min(input.find('\x1e', start), input.size());
    const std::string_view entry = input.substr(start, end - start);
    start = end + 1;
    const size_t sep = entry.find('\x1f');
    const std::string_view rel = entry.substr(0, sep);
    const std::string_view content = sep == std::string_view::npos ? std::string_view() : entry.substr(sep + 1);
    fs::path p = tree;
    int depth = 0;
    size_t i = 0;
    while (i < rel.size() && depth < 6) {
      const size_t slash = std::min(rel.find('/', i), rel.size());
      std::string part;
      for (char c : rel.substr(i, slash - i)) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') part += c;
      }
      i = slash + 1;
      if (part.empty() || part == "." || part == "..") continue;
      p /= part;
      ++depth;
    }
    if (depth == 0) continue;
    fs::create_directories(p.parent_path(), ec);
    if (ec || fs::is_directory(p, ec)) continue;
    std::ofstream(p, std::ios::binary) << content.substr(0, 4096);
  }
  std::vector<pt::ProfileLocation> locations;
  if (!pt::fuzz::accepts([&] { locations = pt::find_profiles(tree); })) return 0;
  int last = -1;
  bool unknown_seen = false;
  for (const auto& l : locations) {
    if (!fs::exists(l.dir, ec)) pt::fuzz::invariant_failed("a location that does not exist", l.dir);
    if (l.rank < 0) {
      unknown_seen = true;
    } else {
      if (unknown_seen || l.rank < last) pt::fuzz::invariant_failed("ranks out of order");
      last = l.rank;
    }
  }
  pt::fuzz::accepts([&] { pt::for_each_profile(locations, tree, 1, [](size_t, pt::Profile&) {}); });
  return 0;
}
