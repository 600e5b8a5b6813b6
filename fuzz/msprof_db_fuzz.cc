// The profilers' SQLite export (ascend_pytorch_profiler_*.db, msprof_*.db; readers/msprof_db.cc):
// any bytes as a database file. SQLite itself refuses what is no database; the reader must turn
// every table it does not expect (missing, wrong types, dangling string ids, NULLs, tasks ending
// before they start) into an InputError naming the file, and keep finite times.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "fuzz_support.h"
#include "profile/readers/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    char name[] = "/tmp/pt_msprof_db_fuzz_XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) pt::fuzz::invariant_failed("mkstemp failed");
    close(fd);
    return std::string(name);
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) pt::fuzz::invariant_failed("cannot write the db");
  pt::Profile profile;
  pt::TimeOrigin origin;
  pt::ReadContext ctx{profile, origin, profile.tasks};
  if (!pt::fuzz::accepts([&] { pt::read_msprof_db_path(path, ctx); }, path)) return 0;
  for (const auto& t : profile.tasks) {
    if (!std::isfinite(t.start_us) || !std::isfinite(t.duration_us) || t.duration_us < 0) {
      pt::fuzz::invariant_failed("a task with a non-finite or negative time accepted");
    }
  }
  return 0;
}
