#include "analyze/prefetch_audit.h"

#include "analyze/model_check.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace pt {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::optional<int> infer_num_tokens(const Profile& profile) {
  std::map<long long, int> votes;
  for (const auto& t : profile.tasks) {
    if (!t.is_cube() || t.input_shapes.find(';') == std::string::npos) continue;
    const std::string first(t.input_shapes.substr(0, t.input_shapes.find(',')));
    char* end = nullptr;
    const long long m = std::strtoll(first.c_str(), &end, 10);
    if (end != first.c_str() && m > 0) ++votes[m];
  }
  if (votes.empty()) return std::nullopt;
  auto best = std::max_element(votes.begin(), votes.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return static_cast<int>(best->first);
}

std::string matmul_linear(const ProfileTask& t, const StepPlan& plan) {
  if (!t.is_cube() || t.input_shapes.empty()) return "";
  const std::vector<long long> w = weight_dims(t.input_shapes);
  for (bool transposed : {false, true}) {  // the orientation export-profile and torch_npu write first
    for (const auto& l : plan.linears) {
      if (weight_fits(w, l, transposed)) return l.name;
    }
  }
  return "";
}

namespace {

std::string kind_of(const ProfileTask& t) { return std::string(t.kind()); }

using Signature = std::tuple<std::string, std::string, std::string>;  // before fork, window, target

struct SiteInfo {
  std::string site;
  std::string config_key;
  double weight_bytes = 0;
  double issued_bytes = 0;
  double code_cap_bytes = 0;
};

}  // namespace

Audit audit_profile(const Profile& profile, const StepPlan* plan, const WeightPrefetchConfig* config,
                    CapReading cap_reading, const AuditOptions& options) {
  Audit audit;
  audit.source = profile.source;

  // Streams.
  std::map<int64_t, std::vector<const ProfileTask*>> by_stream;
  std::set<int64_t> steps;
  for (const auto& t : profile.tasks) {
    by_stream[t.stream_id].push_back(&t);
    if (t.step_id >= 0) steps.insert(t.step_id);
  }
  audit.steps = std::max<size_t>(1, steps.size());
  double best_busy = -1;
  for (auto& [id, tasks] : by_stream) {
    StreamSummary s;
    s.stream_id = id;
    s.tasks = tasks.size();
    size_t compute = 0, cmo = 0, comm = 0;
    double compute_busy = 0, end = -1e300, first = tasks.front()->start_us, last = first;
    for (const ProfileTask* t : tasks) {
      ++s.tasks_by_core[t->task_type.empty() ? std::string("?") : std::string(t->task_type)];
      compute += t->is_compute();
      cmo += t->is_cmo();
      comm += t->is_communication();
      if (t->is_compute()) compute_busy += t->duration_us;
      // Union of intervals; tasks are sorted by start.
      const double s0 = std::max(t->start_us, end);
      if (t->end_us() > s0) s.busy_us += t->end_us() - s0;
      if (end > -1e299 && t->start_us > end) {
        const double gap = t->start_us - end;
        if (gap > options.idle_gap_threshold_us) {
          ++s.idle_gaps;
          s.idle_us += gap;
          s.max_gap_us = std::max(s.max_gap_us, gap);
        }
      }
      end = std::max(end, t->end_us());
      last = std::max(last, t->end_us());
    }
    s.span_us = last - first;
    s.role = cmo > 0 && compute == 0 ? "prefetch" : compute > 0 ? "compute" : comm > 0 ? "communication" : "other";
    if (compute > 0 && compute_busy > best_busy) {
      best_busy = compute_busy;
      audit.compute_stream = id;
    }
    audit.streams.push_back(std::move(s));
  }
  for (auto& s : audit.streams) {
    if (s.role == "compute" && s.stream_id != audit.compute_stream) s.role = "compute (secondary)";
  }

  // The main timeline the prefetch hides behind: compute-stream ops and communication tasks.
  std::vector<const ProfileTask*> main;
  for (const auto& t : profile.tasks) {
    if (t.is_cmo() || t.is_event()) continue;
    if (t.stream_id == audit.compute_stream || t.is_communication()) main.push_back(&t);
  }

  std::vector<const ProfileTask*> records, waits;
  for (const auto& t : profile.tasks) {
    if (t.stream_id != audit.compute_stream) continue;
    // EVENT_RECORD / EVENT_WAIT, their _SQE spellings, and CAPTURE_RECORD / CAPTURE_WAIT in a
    // captured ACL graph (graph-mode decode).
    if (t.is_event_record()) records.push_back(&t);
    if (t.is_event_wait()) waits.push_back(&t);
  }
  constexpr double kMaxForkToCmoUs = 50.0;  // an EVENT_RECORD further back is not this CMO's fork

  // What the model says each site looks like, and how many bytes it moves.
  std::map<Signature, SiteInfo> by_signature;
  std::map<std::pair<std::string, std::string>, SiteInfo> by_window_target;
  std::map<std::string, SiteInfo> by_site;
  if (plan) {
    std::map<std::string, double> issued;
    if (config) {
      SimOptions o;
      o.cap_reading = cap_reading;
      for (const auto& s : simulate_step(*plan, *config, o).sites) {
        if (s.active && !issued.count(s.site)) issued[s.site] = s.issued_bytes;
      }
    }
    for (const auto& type : plan->layer_types) {
      for (const auto& site : type.sites) {
        if (!site.gated_on) continue;
        SiteInfo info{site.site, site.ratio_key ? ratio_key_name(*site.ratio_key) : "enabled", site.weight_bytes,
                      issued.count(site.site) ? issued[site.site] : 0, site.cap_bytes};
        const auto& ops = type.ops;
        const std::string before = site.fork_op > 0 ? ops[static_cast<size_t>(site.fork_op - 1)].type : "";
        // Sites whose wait comes after their target (mlp.gate_up), or that have none, are told
        // apart by the op their CMO's bytes serve.
        const int last = site.join_op >= 0 ? site.join_op : site.target_op;
        const std::string window = site.on_compute_stream || last < 0 ? "" : ops[static_cast<size_t>(last)].type;
        const std::string target = site.target_op >= 0 ? ops[static_cast<size_t>(site.target_op)].type : "";
        // A key two different sites share cannot tell them apart: mark it ambiguous (empty site).
        auto add = [&info](auto& map, const auto& key) {
          auto [it, fresh] = map.emplace(key, info);
          if (!fresh && it->second.site != info.site) it->second.site.clear();
        };
        add(by_signature, Signature{before, window, target});
        add(by_window_target, std::make_pair(window, target));
        by_site.emplace(site.site, info);
      }
    }
  }

  // Without any fork or join event the window has to be inferred. With the model, each CMO is paired
  // with the matmul its bytes serve: CMOs leave the prefetch stream in issue order (FIFO), and the
  // sites' target matmuls come in the same order, so the i-th CMO serves the i-th target (a linear
  // two sites prefetch, like down_proj with attn.o/down_proj and mlp.down, counts twice). This
  // keeps mlp.gate_up (whose CMO runs beside its own target) and mlp.down apart.
  const bool no_events = records.empty() && waits.empty();
  std::map<const ProfileTask*, std::pair<const ProfileTask*, std::string>> inferred;  // CMO -> (target, site)
  if (no_events && plan) {
    // Per target linear, the sites that prefetch for it in fork order (the largest such list of
    // any layer type).
    std::map<std::string, std::vector<std::string>> sites_of_linear;
    for (const auto& type : plan->layer_types) {
      std::map<std::string, std::vector<std::pair<int, std::string>>> here;
      for (const auto& site : type.sites) {
        if (!site.gated_on || site.on_compute_stream) continue;
        if (config && by_site.count(site.site) && by_site[site.site].issued_bytes <= 0) continue;
        const PlannedOp& target = type.ops[static_cast<size_t>(site.target_op)];
        if (target.linear >= 0) here[plan->linears[static_cast<size_t>(target.linear)].name].emplace_back(site.fork_op, site.site);
      }
      for (auto& [linear, list] : here) {
        std::stable_sort(list.begin(), list.end());
        auto& best = sites_of_linear[linear];
        if (list.size() > best.size()) {
          best.clear();
          for (const auto& [fork, name] : list) best.push_back(name);
        }
      }
    }
    std::vector<std::pair<const ProfileTask*, std::string>> targets;
    std::vector<const ProfileTask*> cmos;
    for (const ProfileTask* op : main) {
      if (!op->is_cube()) continue;
      const auto it = sites_of_linear.find(matmul_linear(*op, *plan));
      if (it == sites_of_linear.end()) continue;
      for (const auto& site : it->second) targets.emplace_back(op, site);
    }
    for (const auto& t : profile.tasks) {
      if (t.is_cmo() && t.stream_id != audit.compute_stream) cmos.push_back(&t);
    }
    if (!cmos.empty() && targets.size() == cmos.size()) {
      for (size_t i = 0; i < cmos.size(); ++i) inferred[cmos[i]] = targets[i];
    }
  }

  size_t index = 0;
  for (const auto& t : profile.tasks) {
    if (!t.is_cmo()) continue;
    CmoAudit c;
    c.index = index++;
    c.step = t.step_id;
    c.layer = t.layer;
    c.stream_id = t.stream_id;
    c.start_us = t.start_us;
    c.duration_us = t.duration_us;
    c.on_compute_stream = t.stream_id == audit.compute_stream;
    const double end = t.end_us();
    constexpr double kEps = 2e-3;  // profiles round times to 1 ns: an end may pass the next start by that much
    // Ops overlapped, and the share of the CMO the main timeline covers. `main` is sorted by start.
    auto by_start = [](const ProfileTask* a, double v) { return a->start_us < v; };
    const size_t at = static_cast<size_t>(std::lower_bound(main.begin(), main.end(), t.start_us + kEps, by_start) - main.begin());

    if (!c.on_compute_stream) {
      double covered_until = t.start_us;
      for (size_t j = at > 0 ? at - 1 : 0; j < main.size() && main[j]->start_us < end; ++j) {
        const ProfileTask* op = main[j];
        if (op->end_us() <= t.start_us) continue;
        if (c.overlapped_ops.size() < 16) c.overlapped_ops.push_back(kind_of(*op));
        const double s0 = std::max({op->start_us, t.start_us, covered_until});
        const double e0 = std::min(op->end_us(), end);
        if (e0 > s0) c.overlap_us += e0 - s0;
        covered_until = std::max(covered_until, e0);
      }
    }
    c.overlap_pct = c.duration_us > 0 ? 100.0 * c.overlap_us / c.duration_us : 0;

    // The next matmul after the CMO starts, and the vector work in between.
    // Fork and join: the compute stream's EVENT_RECORD before the CMO and the EVENT_WAIT that lets
    // it through after the CMO (prefetch_preprocess / prefetch_postprocess), when the profile has
    // them. The join's wait ends no earlier than the CMO it waits for.
    double fork_t = t.start_us;
    const ProfileTask* join = nullptr;
    const ProfileTask* fork_record = nullptr;
    if (!c.on_compute_stream) {
      auto r = std::upper_bound(records.begin(), records.end(), t.start_us + kEps,
                                [](double v, const ProfileTask* a) { return v < a->start_us; });
      if (r != records.begin() && t.start_us - (*std::prev(r))->end_us() < kMaxForkToCmoUs) {
        fork_record = *std::prev(r);
        fork_t = fork_record->end_us();
      }
      for (auto w = std::lower_bound(waits.begin(), waits.end(), fork_t - kEps, by_start); w != waits.end(); ++w) {
        if ((*w)->end_us() >= end - kEps) {
          join = *w;
          break;
        }
      }
    }
    // The op before the fork: with the window's last op and the next matmul, it tells the sites apart.
    const double fork_start = fork_record ? fork_record->start_us : t.start_us;
    const ProfileTask* before = nullptr;
    const size_t at_fork = static_cast<size_t>(std::lower_bound(main.begin(), main.end(), fork_start + kEps, by_start) - main.begin());
    for (size_t j = at_fork; j-- > 0 && j + 8 >= at_fork;) {
      if (main[j]->end_us() <= fork_start + kEps) {
        before = main[j];
        break;
      }
    }
    c.fork_op = before ? kind_of(*before) : "";
    const ProfileTask* matmul = nullptr;
    const ProfileTask* window = nullptr;
    // Without events, the window runs from the op in flight at the fork to the next matmul.
    size_t scan = static_cast<size_t>(
        std::lower_bound(main.begin(), main.end(), c.on_compute_stream ? end - kEps : fork_t + kEps, by_start) - main.begin());
    if (!c.on_compute_stream && scan > 0 && main[scan - 1]->end_us() > fork_t + kEps) --scan;
    c.window_inferred = !c.on_compute_stream && !join && no_events;
    const auto forced_it = inferred.find(&t);
    const ProfileTask* forced = forced_it == inferred.end() ? nullptr : forced_it->second.first;
    for (size_t j = scan; j < main.size(); ++j) {
      const ProfileTask* op = main[j];
      if (forced) {
        // Up to the matmul this CMO serves (which may have started before it: nothing to hide behind).
        if (op == forced || op->start_us >= forced->start_us) {
          matmul = forced;
          break;
        }
        if (!op->is_cube() && !c.on_compute_stream) window = op;
        continue;
      }
      if (join && op->start_us >= join->start_us - kEps) {
        if (op->is_cube()) {
          matmul = op;
          break;
        }
        continue;
      }
      if (op->is_cube() && !join) {
        matmul = op;
        break;
      }
      if (!c.on_compute_stream && !op->is_cube()) window = op;
    }
    if (forced && !matmul) matmul = forced;
    c.next_matmul = matmul ? kind_of(*matmul) : "";
    c.next_matmul_start_us = matmul ? matmul->start_us : -1;
    if (window) {
      c.window_op = kind_of(*window);
      c.window_end_us = join ? join->start_us : window->end_us();
    } else {
      c.window_end_us = join ? join->start_us : fork_t;  // nothing to hide behind
    }
    c.window_us = c.on_compute_stream ? 0 : std::max(0.0, c.window_end_us - fork_t);
    c.hide_us = c.on_compute_stream ? 0 : std::max(0.0, c.window_end_us - t.start_us);
    c.late_us = c.on_compute_stream ? c.duration_us : end - c.window_end_us;
    c.stall_us = std::max(0.0, c.late_us);

    // Which site.
    if (!t.site.empty()) {
      c.site = t.site;
      c.site_source = "profile";
    } else if (forced) {
      c.site = forced_it->second.second;
      c.site_source = "target";
    } else if (plan) {
      auto sig = by_signature.find(Signature{c.fork_op, c.window_op, c.next_matmul});
      auto wt = by_window_target.find({c.window_op, c.next_matmul});
      if (sig != by_signature.end() && !sig->second.site.empty()) {
        c.site = sig->second.site;
        c.site_source = "signature";
      } else if (wt != by_window_target.end() && !wt->second.site.empty()) {
        c.site = wt->second.site;
        c.site_source = "window+target";
      }
    }
    if (c.site.empty()) {
      c.site = c.window_op.empty() ? "?" : fmt::format("? (behind {})", c.window_op);
      c.site_source = "none";
    }
    if (t.prefetch_bytes > 0) c.bytes = t.prefetch_bytes;
    else if (auto it = by_site.find(c.site); it != by_site.end()) c.bytes = it->second.issued_bytes;
    if (c.bytes > 0 && c.duration_us > 0) c.GBps = c.bytes / c.duration_us / 1e3;
    audit.cmos.push_back(std::move(c));
  }

  audit.cmo_count = audit.cmos.size();

  // One wait lets the compute stream through once everything queued before it is done: the time it
  // waits is split among the CMOs it waited for in FIFO order (each its part past the one before),
  // as the simulator charges it.
  {
    std::map<double, std::vector<CmoAudit*>> by_wait;
    for (auto& c : audit.cmos) {
      if (!c.on_compute_stream && c.late_us > 0) by_wait[c.window_end_us].push_back(&c);
    }
    for (auto& [wait_start, list] : by_wait) {
      std::sort(list.begin(), list.end(), [](const CmoAudit* a, const CmoAudit* b) {
        return a->start_us + a->duration_us < b->start_us + b->duration_us;
      });
      double prev_end = wait_start;
      for (CmoAudit* c : list) {
        const double end = c->start_us + c->duration_us;
        c->stall_us = std::max(0.0, end - prev_end);
        prev_end = std::max(prev_end, end);
      }
    }
  }

  // Per site over all layers and steps.
  std::map<std::string, std::vector<const CmoAudit*>> groups;
  std::vector<std::string> order;
  for (const auto& c : audit.cmos) {
    if (!groups.count(c.site)) order.push_back(c.site);
    groups[c.site].push_back(&c);
  }
  for (const auto& name : order) {
    const auto& list = groups[name];
    SiteAudit s;
    s.site = name;
    s.count = list.size();
    std::vector<double> dur, win, hide, late, overlap, gbps;
    double stall = 0, bytes = 0;
    size_t late_count = 0;
    for (const CmoAudit* c : list) {
      dur.push_back(c->duration_us);
      win.push_back(c->window_us);
      hide.push_back(c->hide_us);
      late.push_back(c->late_us);
      overlap.push_back(c->overlap_pct);
      if (c->GBps > 0) gbps.push_back(c->GBps);
      stall += c->stall_us;
      bytes += c->bytes;
      late_count += c->late_us > 0;
    }
    s.duration_median_us = percentile(dur, 0.5);
    s.duration_p10_us = percentile(dur, 0.1);
    s.duration_p90_us = percentile(dur, 0.9);
    s.window_median_us = percentile(win, 0.5);
    s.window_inferred = std::all_of(list.begin(), list.end(), [](const CmoAudit* c) { return c->window_inferred; });
    s.hide_median_us = percentile(hide, 0.5);
    s.late_median_us = percentile(late, 0.5);
    s.late_max_us = *std::max_element(late.begin(), late.end());
    s.overlap_median_pct = percentile(overlap, 0.5);
    s.stall_per_step_us = stall / static_cast<double>(audit.steps);
    s.late_fraction = static_cast<double>(late_count) / static_cast<double>(list.size());
    s.bytes = bytes / static_cast<double>(list.size());
    s.GBps_median = percentile(gbps, 0.5);
    auto info = by_site.find(name);
    if (info != by_site.end()) {
      s.weight_bytes = info->second.weight_bytes;
      if (config && info->second.config_key != "enabled") {
        if (auto key = ratio_key_from_name(info->second.config_key)) s.current_ratio = (*config)[*key].ratio;
      }
    }
    const bool on_compute = list.front()->on_compute_stream;
    if (on_compute) {
      s.suggestion = fmt::format("runs in the compute stream: its {:.1f} us are all exposed", s.duration_median_us);
    } else if (s.GBps_median > 0 && s.weight_bytes > 0) {
      // Bytes that the measured CMO speed moves within the measured window.
      const double fit_bytes = s.GBps_median * 1e3 * s.hide_median_us;
      const double ratio = std::clamp(std::floor(fit_bytes / s.weight_bytes * 100.0) / 100.0, 0.0, 1.0);
      s.suggested_ratio = ratio;
      const double cap = info != by_site.end() ? info->second.code_cap_bytes : 0;
      const std::string key = info != by_site.end() ? info->second.config_key : name;
      if (s.late_median_us > 0) {
        s.suggestion = fmt::format("ends {:.1f} us after its window (median): {} = {:.2f} would end with it", s.late_median_us,
                                   key, ratio);
      } else if (cap > 0 && std::isfinite(cap) && fit_bytes >= cap) {
        s.suggestion = fmt::format("hidden with {:.1f} us to spare, and the {:.0f} MiB cap already binds", -s.late_median_us,
                                   cap / 1048576.0);
      } else {
        s.suggestion = fmt::format("hidden with {:.1f} us to spare: {} up to {:.2f} would still end with its window",
                                   -s.late_median_us, key, ratio);
      }
    } else if (s.late_median_us > 0 && s.duration_median_us > 0) {
      s.suggestion = fmt::format("ends {:.1f} us after its window (median): about {:.0f} % of its bytes would fit "
                                 "(give --model and --additional-config for a ratio)",
                                 s.late_median_us, 100.0 * s.hide_median_us / s.duration_median_us);
    } else {
      s.suggestion = fmt::format("hidden with {:.1f} us to spare", -s.late_median_us);
    }
    audit.sites.push_back(std::move(s));
  }
  if (no_events && !audit.cmos.empty()) {
    audit.notes.push_back(fmt::format(
        "no fork or join event tasks (EVENT_RECORD / EVENT_WAIT, their _SQE spellings, CAPTURE_RECORD / CAPTURE_WAIT): "
        "each CMO's window is inferred, from the op in flight at its start to {}",
        inferred.empty() ? "the next matmul" : "the matmul its bytes serve (the sites' targets, in issue order)"));
  }
  if (audit.cmos.empty()) {
    audit.notes.push_back("no CMO task in this profile: weight prefetch did not run (or the files hold no trace: CMO "
                          "tasks appear only in trace_view.json / msprof_*.json / task_time*.csv)");
  }
  return audit;
}

}  // namespace pt
