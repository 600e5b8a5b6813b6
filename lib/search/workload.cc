#include "search/workload.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "util/csv.h"
#include "util/error.h"
#include "util/file_io.h"

namespace pt {

namespace {
constexpr int kMaxTokens = 1 << 24;
constexpr size_t kMaxPoints = 4096;

void validate(const std::vector<WorkloadPoint>& w, const std::string& where) {
  if (w.empty()) throw InputError(fmt::format("{}: empty workload: give at least one token count", where));
  if (w.size() > kMaxPoints) throw InputError(fmt::format("{}: {} token counts; at most {}", where, w.size(), kMaxPoints));
  double total = 0;
  std::set<int> seen;
  for (const auto& p : w) {
    if (p.num_tokens < 1 || p.num_tokens > kMaxTokens) {
      throw InputError(fmt::format("{}: token count {} outside 1..{}", where, p.num_tokens, kMaxTokens));
    }
    if (!(p.weight >= 0) || !std::isfinite(p.weight)) {
      throw InputError(fmt::format("{}: weight {} for {} tokens: expected a finite number >= 0", where, p.weight, p.num_tokens));
    }
    if (!seen.insert(p.num_tokens).second) {
      throw InputError(fmt::format("{}: token count {} appears twice", where, p.num_tokens));
    }
    total += p.weight;
  }
  if (total <= 0) throw InputError(fmt::format("{}: all weights are zero", where));
}
}  // namespace

std::vector<WorkloadPoint> workload_from_lists(const std::vector<int>& tokens, const std::vector<double>& weights) {
  if (!weights.empty() && weights.size() != tokens.size()) {
    throw InputError(fmt::format("--weights: {} weights for {} token counts; give one weight per token count",
                                 weights.size(), tokens.size()));
  }
  std::vector<WorkloadPoint> w;
  for (size_t i = 0; i < tokens.size(); ++i) w.push_back({tokens[i], weights.empty() ? 1.0 : weights[i]});
  validate(w, "--num-tokens");
  return w;
}

std::vector<WorkloadPoint> parse_workload_csv(const std::string& text, const std::string& source) {
  CsvTable csv = parse_csv(text, source);
  const size_t tokens_col = csv.require_column({"num_tokens", "tokens"});
  const auto weight_col = csv.column("weight");
  // A misspelt "weight" column would silently mean equal weights: every column must be known.
  for (size_t i = 0; i < csv.header.size(); ++i) {
    const std::string& h = csv.header[i];
    if (!h.empty() && i != tokens_col && (!weight_col || i != *weight_col)) {  // "" : a trailing comma
      throw InputError(fmt::format("{}: line 1: {} column \"{}\" (expected num_tokens and optionally weight)", source,
                                   h == "num_tokens" || h == "tokens" || h == "weight" ? "duplicate" : "unknown", h));
    }
  }
  std::vector<WorkloadPoint> w;
  std::map<int, size_t> line_of;  // token count -> line
  for (const auto& row : csv.rows) {
    const double t = csv_number(csv, row, tokens_col);
    if (t != std::floor(t) || t < 1 || t > kMaxTokens) {
      throw InputError(fmt::format("{}: line {}: num_tokens {} is not a whole number in 1..{}", source, row.line, t, kMaxTokens));
    }
    const double weight = weight_col ? csv_number(csv, row, *weight_col) : 1.0;
    if (weight < 0) throw InputError(fmt::format("{}: line {}: weight {} is negative", source, row.line, weight));
    if (auto [it, fresh] = line_of.emplace(static_cast<int>(t), row.line); !fresh) {
      throw InputError(fmt::format("{}: line {}: token count {} appears twice (first on line {})", source, row.line,
                                   it->first, it->second));
    }
    w.push_back({static_cast<int>(t), weight});
  }
  validate(w, source);
  return w;
}

std::vector<WorkloadPoint> load_workload_csv(const std::string& path) {
  return parse_workload_csv(read_text_file(path), path);
}

std::vector<WorkloadPoint> workload_from_capture_sizes(const Deployment& d, const Release& release, const CaptureModel& model) {
  if (!d.max_num_seqs) throw InputError("no workload: give --num-tokens, --workload or --max-num-seqs");
  std::vector<WorkloadPoint> w;
  // Before v0.18 the sizes reach 2 x max_num_seqs whatever the draft tokens; a decode step never
  // carries more than max_num_seqs x (1 + spec) tokens, so the sizes above it are never run.
  const long long most = static_cast<long long>(*d.max_num_seqs) * (1 + d.num_speculative_tokens);
  for (int s : capture_sizes(d, release, model)) {
    if (d.phase != Phase::kDecode || s <= most) w.push_back({s, 1.0});
  }
  validate(w, "--max-num-seqs");
  return w;
}

}  // namespace pt
