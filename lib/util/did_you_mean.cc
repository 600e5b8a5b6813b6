#include "util/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace pt {

namespace {

char fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string folded(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = fold(c);
  return out;
}

}  // namespace

size_t edit_distance(std::string_view a_in, std::string_view b_in) {
  const std::string a = folded(a_in), b = folded(b_in);
  const size_t n = a.size(), m = b.size();
  // Three rows: the one before last for transpositions.
  std::vector<size_t> before(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::vector<std::string> closest_names(std::string_view typed, const std::vector<std::string>& candidates, size_t limit) {
  const std::string t = folded(typed);
  // Leading dashes are what every option shares: they say nothing about which one was meant.
  auto body = [](const std::string& s) { return s.substr(std::min(s.find_first_not_of('-'), s.size())); };
  const std::string tb = body(t);
  if (tb.empty()) return {};
  const size_t threshold = std::max<size_t>(2, tb.size() / 3);
  struct Scored {
    size_t score;
    size_t order;
    const std::string* name;
  };
  std::vector<Scored> scored;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string c = folded(candidates[i]);
    const std::string cb = body(c);
    if (cb.empty()) continue;
    const size_t d = edit_distance(tb, cb);
    // An abbreviation (--tensor for --tensor-parallel-size) or a name with something after it
    // (--num-tokens-per-step) counts as close; its score is the distance past the common prefix.
    const bool prefix = (tb.size() >= 3 && cb.starts_with(tb)) || (cb.size() >= 3 && tb.starts_with(cb));
    if (d <= threshold) {
      scored.push_back({d, i, &candidates[i]});
    } else if (prefix) {
      scored.push_back({threshold + 1, i, &candidates[i]});
    }
  }
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.score < b.score; });
  // Only the best score: a near miss hides the merely possible.
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (s.score != scored.front().score || out.size() >= limit) break;
    if (std::find(out.begin(), out.end(), *s.name) == out.end()) out.push_back(*s.name);
  }
  return out;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates) {
  const std::vector<std::string> names = closest_names(typed, candidates);
  if (names.empty()) return "";
  std::string out = " did you mean ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out + "?";
}

}  // namespace pt
