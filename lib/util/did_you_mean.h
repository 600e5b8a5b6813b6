#pragma once
// "did you mean": the names closest to what someone typed, by edit distance (case-insensitive).
#include <string>
#include <string_view>
#include <vector>

namespace pt {

// Optimal-string-alignment distance (insertions, deletions, substitutions, adjacent swaps), case
// folded to ASCII lower case.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidates close enough to `typed` to be what was meant, best first: those within an edit
// distance of max(2, length / 3), and those that `typed` is a prefix of (an abbreviation) or that
// are a prefix of `typed`. Ties keep the candidates' order; duplicates are dropped. At most
// `limit`.
std::vector<std::string> closest_names(std::string_view typed, const std::vector<std::string>& candidates,
                                       size_t limit = 3);

// " did you mean X?" / " did you mean X or Y?" (with a leading space), or "" when nothing is close.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace pt
