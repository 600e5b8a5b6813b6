#include "export/analyze_report.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "export/text_table.h"
#include "util/csv.h"

namespace pt {

namespace {

std::string streams_text(const Audit& a) {
  std::set<std::string> cores;
  for (const auto& s : a.streams) {
    for (const auto& [core, n] : s.tasks_by_core) cores.insert(core);
  }
  std::vector<std::string> header{"stream", "role", "tasks"};
  header.insert(header.end(), cores.begin(), cores.end());
  for (const char* c : {"busy us", "span us", "idle gaps", "idle us", "max gap us"}) header.emplace_back(c);
  TextTable t(header);
  for (const auto& s : a.streams) {
    std::vector<std::string> row{s.stream_id < 0 ? "N/A" : std::to_string(s.stream_id), s.role, std::to_string(s.tasks)};
    for (const auto& c : cores) {
      auto it = s.tasks_by_core.find(c);
      row.push_back(it == s.tasks_by_core.end() ? "0" : std::to_string(it->second));
    }
    for (double v : {s.busy_us, s.span_us}) row.push_back(fmt_us(v));
    row.push_back(std::to_string(s.idle_gaps));
    row.push_back(fmt_us(s.idle_us));
    row.push_back(fmt_us(s.max_gap_us));
    t.add_row(row);
  }
  return t.render("  ");
}

const SiteAudit* find_site(const Audit& a, const std::string& site) {
  for (const auto& s : a.sites) {
    if (s.site == site) return &s;
  }
  return nullptr;
}

nlohmann::json site_json(const SiteAudit& s) {
  nlohmann::json j = {{"site", s.site},
                      {"cmo_count", s.count},
                      {"duration_median_us", s.duration_median_us},
                      {"duration_p10_us", s.duration_p10_us},
                      {"duration_p90_us", s.duration_p90_us},
                      {"window_median_us", s.window_median_us},
                      {"window_inferred", s.window_inferred},
                      {"late_median_us", s.late_median_us},
                      {"late_max_us", s.late_max_us},
                      {"late_fraction", s.late_fraction},
                      {"stall_per_step_us", s.stall_per_step_us},
                      {"overlap_median_pct", s.overlap_median_pct},
                      {"bytes", s.bytes},
                      {"GBps_median", s.GBps_median},
                      {"weight_bytes", s.weight_bytes},
                      {"suggestion", s.suggestion}};
  j["current_ratio"] = s.current_ratio ? nlohmann::json(*s.current_ratio) : nlohmann::json(nullptr);
  j["suggested_ratio"] = s.suggested_ratio ? nlohmann::json(*s.suggested_ratio) : nlohmann::json(nullptr);
  return j;
}

double busy_of(const Audit& a, int64_t stream) {
  for (const auto& s : a.streams) {
    if (s.stream_id == stream) return s.busy_us;
  }
  return 0;
}

}  // namespace

std::string analyze_text(const Audit& a, const Audit* b) {
  std::string out = fmt::format("profile   {}: {} step{}, {} CMO task{}, compute stream {}\n\n", a.source, a.steps,
                                a.steps == 1 ? "" : "s", a.cmo_count, a.cmo_count == 1 ? "" : "s", a.compute_stream);
  out += "streams\n" + streams_text(a) + "\n";
  if (!a.has_cmo()) {
    for (const auto& n : a.notes) out += fmt::format("note: {}\n", n);
  } else {
    TextTable t({"site", "CMOs", "median us", "p10-p90 us", "window us", "late us", "max late us", "late %", "stall/step us",
                 "overlap %", "GB/s", "ratio", "suggested"});
    for (const auto& s : a.sites) {
      t.add_row({s.site, std::to_string(s.count), fmt_us(s.duration_median_us),
                 fmt::format("{}-{}", fmt_us(s.duration_p10_us), fmt_us(s.duration_p90_us)),
                 fmt_us(s.window_median_us) + (s.window_inferred ? "*" : ""),
                 fmt_us(s.late_median_us), fmt_us(s.late_max_us), fmt::format("{:.0f}", 100 * s.late_fraction),
                 fmt_us(s.stall_per_step_us), fmt::format("{:.0f}", s.overlap_median_pct),
                 s.GBps_median > 0 ? fmt::format("{:.0f}", s.GBps_median) : "-",
                 s.current_ratio ? fmt::format("{:.2f}", *s.current_ratio) : "-",
                 s.suggested_ratio ? fmt::format("{:.2f}", *s.suggested_ratio) : "-"});
    }
    out += "prefetch (CMO) tasks per site, over all layers and steps (late: CMO end minus the end of the vector work it "
           "hides behind; > 0 stalls the next matmul)\n";
    out += t.render("  ");
    if (std::any_of(a.sites.begin(), a.sites.end(), [](const SiteAudit& s) { return s.window_inferred; })) {
      out += "  * window inferred: the profile has no fork or join event tasks\n";
    }
    out += "\nsuggestions\n";
    for (const auto& s : a.sites) out += fmt::format("  {:<28} {}\n", s.site, s.suggestion);
    for (const auto& n : a.notes) out += fmt::format("note: {}\n", n);
  }
  if (b) {
    out += fmt::format("\ncompared with {}: {} step{}, {} CMO tasks\n", b->source, b->steps, b->steps == 1 ? "" : "s", b->cmo_count);
    TextTable t({"site", "CMOs A", "CMOs B", "median us A", "median us B", "late us A", "late us B", "stall/step A",
                 "stall/step B", "overlap % A", "overlap % B"});
    std::vector<std::string> names;
    for (const auto& s : a.sites) names.push_back(s.site);
    for (const auto& s : b->sites) {
      if (!find_site(a, s.site)) names.push_back(s.site);
    }
    for (const auto& n : names) {
      const SiteAudit* x = find_site(a, n);
      const SiteAudit* y = find_site(*b, n);
      auto v = [](const SiteAudit* s, auto f) { return s ? f(*s) : std::string("-"); };
      t.add_row({n, v(x, [](auto& s) { return std::to_string(s.count); }), v(y, [](auto& s) { return std::to_string(s.count); }),
                 v(x, [](auto& s) { return fmt_us(s.duration_median_us); }), v(y, [](auto& s) { return fmt_us(s.duration_median_us); }),
                 v(x, [](auto& s) { return fmt_us(s.late_median_us); }), v(y, [](auto& s) { return fmt_us(s.late_median_us); }),
                 v(x, [](auto& s) { return fmt_us(s.stall_per_step_us); }), v(y, [](auto& s) { return fmt_us(s.stall_per_step_us); }),
                 v(x, [](auto& s) { return fmt::format("{:.0f}", s.overlap_median_pct); }),
                 v(y, [](auto& s) { return fmt::format("{:.0f}", s.overlap_median_pct); })});
    }
    if (!names.empty()) out += t.render("  ");
    const double busy_a = busy_of(a, a.compute_stream) / static_cast<double>(a.steps);
    const double busy_b = busy_of(*b, b->compute_stream) / static_cast<double>(b->steps);
    out += fmt::format("  compute stream busy per step: A {:.1f} us, B {:.1f} us ({:+.2f} %)\n", busy_a, busy_b,
                       busy_a > 0 ? 100.0 * (busy_b - busy_a) / busy_a : 0.0);
  }
  return out;
}

nlohmann::json analyze_json(const Audit& a, const Audit* b) {
  auto one = [](const Audit& x) {
    nlohmann::json streams = nlohmann::json::array();
    for (const auto& s : x.streams) {
      streams.push_back({{"stream_id", s.stream_id}, {"role", s.role}, {"tasks", s.tasks}, {"tasks_by_core", s.tasks_by_core},
                         {"busy_us", s.busy_us}, {"span_us", s.span_us}, {"idle_gaps", s.idle_gaps}, {"idle_us", s.idle_us},
                         {"max_gap_us", s.max_gap_us}});
    }
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : x.sites) sites.push_back(site_json(s));
    return nlohmann::json{{"source", x.source}, {"steps", x.steps}, {"compute_stream", x.compute_stream},
                          {"cmo_count", x.cmo_count}, {"streams", streams}, {"sites", sites}, {"notes", x.notes}};
  };
  nlohmann::json j = one(a);
  if (b) j["compare"] = one(*b);
  return j;
}

std::string cluster_text(const ClusterAudit& c) {
  std::string out = fmt::format("cluster   {}: {} ranks, {} collectives compared across ranks\n\n", c.source, c.ranks.size(),
                                c.collectives);
  TextTable t({"rank", "steps", "step us", "compute us/step", "collectives us/step", "stall us/step", "CMOs", "slow votes", "run"});
  for (const auto& r : c.ranks) {
    t.add_row({std::to_string(r.rank), std::to_string(r.steps), fmt_us(r.step_us), fmt_us(r.compute_us_per_step),
               fmt_us(r.communication_us_per_step), fmt_us(r.stall_us_per_step), std::to_string(r.cmo_count),
               std::to_string(r.slow_votes), r.run_dir});
  }
  out += "ranks (slow votes: collectives in which the others waited for this rank, msprof-analyze's slow_rank test)\n";
  out += t.render("  ");
  if (c.slowest >= 0) {
    const RankAudit& s = c.ranks[static_cast<size_t>(c.slowest)];
    double lo = 1e300, hi = -1e300;
    for (const auto& r : c.ranks) {
      lo = std::min(lo, r.step_us);
      hi = std::max(hi, r.step_us);
    }
    out += c.slowest_basis == "votes"
               ? fmt::format("\nslowest rank {}: the others waited for it in {} of {} collectives; ", s.rank, s.slow_votes, c.collectives)
               : fmt::format("\nslowest rank {} (by step time); ", s.rank);
    out += fmt::format("step time skew {:.2f} % ({} to {} us); its prefetch stalls cost {} us per step\n", c.step_skew_pct,
                       fmt_us(lo), fmt_us(hi), fmt_us(s.stall_us_per_step));
    for (const auto& n : c.notes) out += fmt::format("note: {}\n", n);
    out += fmt::format("\nrank {} (the slowest)\n", s.rank) + analyze_text(s.audit, nullptr);
  }
  return out;
}

nlohmann::json cluster_json(const ClusterAudit& c) {
  nlohmann::json ranks = nlohmann::json::array();
  for (const auto& r : c.ranks) {
    ranks.push_back({{"rank", r.rank}, {"run_dir", r.run_dir}, {"tasks", r.tasks}, {"steps", r.steps}, {"cmo_count", r.cmo_count},
                     {"step_us", r.step_us}, {"compute_us_per_step", r.compute_us_per_step},
                     {"communication_us_per_step", r.communication_us_per_step}, {"stall_us_per_step", r.stall_us_per_step},
                     {"slow_votes", r.slow_votes}});
  }
  nlohmann::json j = {{"source", c.source}, {"ranks", ranks}, {"collectives_compared", c.collectives},
                      {"communication_groups_left_out", c.groups_left_out},
                      {"step_skew_pct", c.step_skew_pct}, {"notes", c.notes}};
  if (c.slowest >= 0) {
    const RankAudit& s = c.ranks[static_cast<size_t>(c.slowest)];
    j["slowest"] = {{"rank", s.rank}, {"basis", c.slowest_basis}, {"stall_us_per_step", s.stall_us_per_step},
                    {"audit", analyze_json(s.audit, nullptr)}};
  }
  return j;
}

std::string cmo_csv(const Audit& a) {
  std::string out =
      "Index,Step Id,Layer,Site,Site Source,Stream ID,Start Time(us),Duration(us),Window(us),Fork After Op,Window Op,Next Matmul,"
      "Late(us),Stall(us),Overlap(us),Overlap(%),Bytes,GBps,Overlapped Ops\n";
  for (const auto& c : a.cmos) {
    out += fmt::format("{},{},{},{},{},{},{:.3f},{:.3f},{:.3f},{},{},{},{:.3f},{:.3f},{:.3f},{:.2f},{:.0f},{:.2f},{}\n", c.index,
                       c.step, c.layer, csv_escape(c.site), c.site_source, c.stream_id, c.start_us, c.duration_us, c.window_us,
                       csv_escape(c.fork_op), csv_escape(c.window_op), csv_escape(c.next_matmul), c.late_us, c.stall_us, c.overlap_us, c.overlap_pct,
                       c.bytes, c.GBps, csv_escape(fmt::format("{}", fmt::join(c.overlapped_ops, ";"))));
  }
  return out;
}

}  // namespace pt
