// The two-stream simulation checked in closed form. The layer template below uses "measured" ops
// (known duration and HBM bytes) and a "layer_sequence" override, on a hardware profile with round
// numbers (test::round_hardware_json): HBM 1e6 B/us, CMO 5e5 B/us, L2 read speed-up 2, every fixed
// cost 0. The model is Qwen3-8B at TP4 W8A8, whose down_proj per rank is 4096 x 3072 int8 =
// 12582912 B: a prefetch of it alone takes 12582912 / 5e5 = 25.165824 us.
#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "test_support.h"

namespace pt {
namespace {

using test::contains;
using test::error_of;

constexpr double kDownBytes = 12582912;    // Qwen3-8B TP4 W8A8 down_proj
constexpr double kGateUpBytes = 25165824;  // Qwen3-8B TP4 W8A8 gate_up_proj (24 MiB)
constexpr double kOBytes = 4194304;        // Qwen3-8B TP4 W8A8 o_proj (4 MiB)
constexpr double kCmoRate = 5e5;           // B/us
constexpr double kHbmRate = 1e6;           // B/us
constexpr double kDownCmoUs = kDownBytes / kCmoRate;  // 25.165824 us
constexpr double kTol = 1e-6;

// pre (10 us) | fork | window (40 us, no HBM) | join | down (30 us, reads down_proj)  x 3 layers,
// then one step op "head" (5 us).
const char* kClosed = R"({
  "schema": "prefetch-tuner/layer-template/1",
  "name": "closed",
  "layer_types": {
    "blk": {
      "ops": [
        {"name": "pre", "kind": "measured", "duration_us": 10},
        {"name": "window", "kind": "measured", "duration_us": 40, "hbm_bytes": 0},
        {"name": "down", "kind": "measured", "duration_us": 30, "linear": "down_proj", "hbm_bytes": 12582912}
      ]
    }
  },
  "step_ops": [{"name": "head", "kind": "measured", "duration_us": 5}],
  "sites": [
    {"site": "mlp.down", "ratio_key": "mlp.down", "layer_type": "blk", "linear": "down_proj",
     "fork_before": "window", "join_after": "window", "target": "down"}
  ],
  "layer_sequence": [{"type": "blk", "count": 3}]
})";

const ModelConfig& qwen3_8b() {
  static const ModelConfig m = load_model("Qwen3-8B");
  return m;
}

Deployment tp4_w8a8_8_tokens() {
  Deployment d;
  d.tensor_parallel = 4;
  d.quantization = Quantization::kW8A8Static;
  d.num_tokens = 8;
  return d;
}

struct Closed {
  nlohmann::json tmpl = nlohmann::json::parse(kClosed);
  HardwareProfile hw = parse_hardware_profile(test::round_hardware_json(), "round.json");
  WeightPrefetchConfig config = WeightPrefetchConfig::defaults_enabled(default_release().semantics);
  SimOptions options{CapReading::kCode, true};
  StepPlan plan;

  nlohmann::json& window() { return tmpl["layer_types"]["blk"]["ops"][1]; }

  StepResult run() {
    plan = build_step_plan(qwen3_8b(), tp4_w8a8_8_tokens(), hw, parse_layer_template(tmpl.dump(), "closed.json"));
    return simulate_step(plan, config, options);
  }

  // The op event of `name` in decoder layer `layer` (or a step op with layer -1).
  const TimelineEvent& op(const StepResult& r, const std::string& name, int layer) const {
    for (const auto& e : r.timeline) {
      if (e.kind != EventKind::kOp || e.layer != layer) continue;
      const PlannedLayerType& t = e.layer_type >= 0 ? plan.layer_types[static_cast<size_t>(e.layer_type)] : plan.step_ops;
      if (t.ops[static_cast<size_t>(e.op)].name == name) return e;
    }
    ADD_FAILURE() << "no op event " << name << " in layer " << layer;
    return r.timeline.front();
  }

  std::vector<TimelineEvent> cmos(const StepResult& r, int layer) const {
    std::vector<TimelineEvent> out;
    for (const auto& e : r.timeline) {
      if (e.kind == EventKind::kCmo && e.layer == layer) out.push_back(e);
    }
    return out;
  }
};

const SiteSummary& site(const StepResult& r, const std::string& name) {
  for (const auto& s : r.sites) {
    if (s.site == name) return s;
  }
  ADD_FAILURE() << "no site " << name;
  return r.sites.front();
}

// ---------------------------------------------------------------------------------------------
// a. prefetch disabled: the serial sum of standalone durations.

TEST(SimulatorClosedForm, DisabledIsTheSerialSum) {
  Closed c;
  c.config.enabled = false;
  StepResult r = c.run();
  // 3 layers x (10 + 40 + 30) + head 5.
  EXPECT_DOUBLE_EQ(r.step_time_us, 3 * 80.0 + 5);
  EXPECT_DOUBLE_EQ(r.step_ops_us, 5);
  ASSERT_EQ(r.layer_time_us.size(), 3u);
  for (double t : r.layer_time_us) EXPECT_DOUBLE_EQ(t, 80);
  EXPECT_EQ(c.cmos(r, 0).size(), 0u);
  EXPECT_EQ(r.peak_l2_bytes, 0);
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_FALSE(s.active);
  EXPECT_EQ(s.reason, "weight prefetch disabled, or this key's module is off (all its ratios 0)");
  EXPECT_EQ(s.issued_bytes, 0);
}

TEST(SimulatorClosedForm, DisabledIsTheSerialSumForEveryBundledModel) {
  const HardwareProfile hw = load_hardware("a3-die");
  WeightPrefetchConfig off = WeightPrefetchConfig::defaults_enabled(default_release().semantics);
  off.enabled = false;
  for (const auto& name : bundled_model_names()) {
    SCOPED_TRACE(name);
    ModelConfig m = load_model(name);
    StepPlan plan = build_step_plan(m, Deployment{}, hw, load_layer_template("", m));
    double serial = 0;
    for (int ti : plan.layer_sequence) {
      // With nothing prefetched, graph mode fuses each quantize into the AddRmsNorm before it.
      for (const auto& op : plan.layer_types[static_cast<size_t>(ti)].ops) serial += op.fuses_into_norm ? 0 : op.standalone_us;
    }
    for (const auto& op : plan.step_ops.ops) serial += op.standalone_us;
    StepResult r = simulate_step(plan, off, SimOptions{});
    EXPECT_NEAR(r.step_time_us, serial, serial * 1e-12);
    for (const auto& s : r.sites) EXPECT_FALSE(s.active) << s.site;
  }
}

TEST(SimulatorClosedForm, RatioZeroEverywhereIsTheSerialSum) {
  Closed c;
  // Every ratio of a module 0 switches the module off (v0.23.0:vllm_ascend/ops/weight_prefetch.py:34).
  for (auto& k : c.config.keys) k = KeySetting{};
  StepResult r = c.run();
  EXPECT_DOUBLE_EQ(r.step_time_us, 245);
  EXPECT_EQ(site(r, "mlp.down").reason, "weight prefetch disabled, or this key's module is off (all its ratios 0)");
}

// ---------------------------------------------------------------------------------------------
// b. a window longer than the prefetch: no stall; prefetch time = bytes / CMO rate + setup.

TEST(SimulatorClosedForm, LongWindowHidesThePrefetch) {
  Closed c;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  ASSERT_TRUE(s.active) << s.reason;
  EXPECT_EQ(s.issued_bytes, kDownBytes);
  EXPECT_EQ(s.requested_bytes, kDownBytes);
  EXPECT_STREQ(issue_limit_name(s.limit), "weight");
  EXPECT_EQ(s.layers, 3);
  EXPECT_NEAR(s.prefetch_us, kDownCmoUs, kTol);  // 25.165824
  EXPECT_NEAR(s.window_us, 40, kTol);
  EXPECT_NEAR(s.stall_us, 0, kTol);
  EXPECT_NEAR(s.overlap_pct, 100, 1e-9);
  EXPECT_NEAR(s.vector_slowdown_us, 0, kTol);
  EXPECT_EQ(s.window_ops, (std::vector<std::string>{"window"}));
  // The CMO of layer 0 starts at the fork (after "pre", t = 10) on stream 3.
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_EQ(cmo[0].stream, kPrefetchStreamId);
  EXPECT_NEAR(cmo[0].start_us, 10, kTol);
  EXPECT_NEAR(cmo[0].duration_us, kDownCmoUs, kTol);
  EXPECT_EQ(cmo[0].bytes, kDownBytes);
  // i. down reads its whole weight from L2: 30 - 12582912 / 1e6 * (1 - 1/2) = 23.708544 us.
  EXPECT_NEAR(s.matmul_saved_us, 6.291456, kTol);
  EXPECT_NEAR(c.op(r, "down", 0).duration_us, 23.708544, kTol);
  EXPECT_EQ(c.op(r, "down", 0).l2_read_bytes, kDownBytes);
  EXPECT_EQ(c.op(r, "down", 0).hbm_bytes, 0);
  EXPECT_NEAR(s.net_gain_us, 6.291456, kTol);
  // Step: 3 x (10 + 40 + 23.708544) + 5.
  EXPECT_NEAR(r.step_time_us, 3 * 73.708544 + 5, kTol);
}

TEST(SimulatorClosedForm, PrefetchTimeScalesWithTheCmoRate) {
  Closed c;
  c.hw.cmo_GBps = 800;  // 8e5 B/us: 12582912 / 8e5 = 15.72864 us
  StepResult r = c.run();
  EXPECT_NEAR(site(r, "mlp.down").prefetch_us, 15.72864, kTol);
  // The CMO cannot run faster than HBM: cmo_GBps above hbm_GBps is clamped to it.
  Closed fast;
  fast.hw.cmo_GBps = 4000;
  EXPECT_NEAR(site(fast.run(), "mlp.down").prefetch_us, kDownBytes / kHbmRate, kTol);
}

TEST(SimulatorClosedForm, PrefetchTakesSetupPlusTransferFromTheFork) {
  // cmo_setup_us = 3: the data lands 3 + 25.165824 us after the fork (t = 10), inside the 40 us
  // window. The CMO task occupies its stream from the fork: set-up, then transfer.
  Closed c;
  c.hw.cmo_setup_us = 3;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_NEAR(s.stall_us, 0, kTol);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_NEAR(cmo[0].start_us, 10, kTol);
  EXPECT_NEAR(cmo[0].start_us + cmo[0].duration_us, 10 + 3 + kDownCmoUs, kTol);
  EXPECT_NEAR(s.prefetch_us, 3 + kDownCmoUs, kTol);
  EXPECT_NEAR(s.window_us, 40, kTol);
}

TEST(SimulatorClosedForm, SetupCountsInTheStall) {
  // Window 10 us, setup 3: the compute stream waits 3 + 25.165824 - 10 = 18.165824 us at the join.
  Closed c;
  c.hw.cmo_setup_us = 3;
  c.window()["duration_us"] = 10;
  StepResult r = c.run();
  EXPECT_NEAR(site(r, "mlp.down").stall_us, 3 + kDownCmoUs - 10, kTol);
  for (double t : r.layer_time_us) EXPECT_NEAR(t, 10 + 3 + kDownCmoUs + 23.708544, kTol);
}

// ---------------------------------------------------------------------------------------------
// c. a window shorter than the prefetch: stall = prefetch - window.

TEST(SimulatorClosedForm, ShortWindowStallsByTheDifference) {
  Closed c;
  c.window()["duration_us"] = 10;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  ASSERT_TRUE(s.active);
  EXPECT_NEAR(s.window_us, 10, kTol);
  EXPECT_NEAR(s.prefetch_us, kDownCmoUs, kTol);
  EXPECT_NEAR(s.stall_us, kDownCmoUs - 10, kTol);  // 15.165824
  EXPECT_NEAR(s.overlap_pct, 100.0 * 10 / kDownCmoUs, 1e-6);
  // The EVENT_WAIT of layer 0 sits at the join (t = 20) and lasts the stall.
  bool found = false;
  for (const auto& e : r.timeline) {
    if (e.kind == EventKind::kEventWait && e.layer == 0) {
      found = true;
      EXPECT_NEAR(e.start_us, 20, kTol);
      EXPECT_NEAR(e.stall_us, kDownCmoUs - 10, kTol);
      EXPECT_NEAR(e.duration_us, kDownCmoUs - 10, kTol);  // join_us = 0
      EXPECT_EQ(e.stream, kComputeStreamId);
    }
  }
  EXPECT_TRUE(found);
  // down starts when the CMO ends (10 + 25.165824) and reads all of it from L2.
  EXPECT_NEAR(c.op(r, "down", 0).start_us, 10 + kDownCmoUs, kTol);
  EXPECT_NEAR(c.op(r, "down", 0).duration_us, 23.708544, kTol);
  // Per layer 10 + 10 + 15.165824 + 23.708544 = 58.874368.
  for (double t : r.layer_time_us) EXPECT_NEAR(t, 58.874368, kTol);
  EXPECT_NEAR(r.step_time_us, 3 * 58.874368 + 5, kTol);
  // Net gain per layer: saved 6.291456 - stall 15.165824.
  EXPECT_NEAR(s.net_gain_us, 6.291456 - 15.165824, kTol);
}

TEST(SimulatorClosedForm, ForkAndJoinCostsAreChargedOnTheComputeStream) {
  Closed c;
  c.hw.fork_us = 1;
  c.hw.join_us = 2;
  StepResult r = c.run();
  // Per layer: 10 + fork 1 + 40 + join 2 + 23.708544 (the CMO ends 25.165824 after the fork, no stall).
  for (double t : r.layer_time_us) EXPECT_NEAR(t, 76.708544, kTol);
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_NEAR(s.stall_us, 0, kTol);
  EXPECT_NEAR(s.net_gain_us, 6.291456 - 3, kTol);
  EXPECT_NEAR(c.cmos(r, 0)[0].start_us, 11, kTol);  // after the 1 us fork
}

// ---------------------------------------------------------------------------------------------
// d. contention: the window op demands HBM; demand + CMO > HBM. Engine::share gives the CMO
//    r_p = min(d_p, max(cap * w / (1 + w), cap - d_c)) and the op r_c = min(d_c, cap - r_p); the op
//    progresses at r_c / d_c of its own speed.

TEST(SimulatorClosedForm, ContentionWithEqualQosSplitsHbmInProportionToDemand) {
  // d_c = 3.6e7 B / 40 us = 9e5 B/us; d_p = 5e5; w = 1: each gets cap x demand / (9e5 + 5e5), so
  // both run at 5/7 of their rate. The CMO ends after 25.165824 x 7/5 = 35.2321536 us; the op has
  // done 25.165824 us of its 40 and finishes the rest alone: 35.2321536 + 14.834176 = 50.0663296 us.
  Closed c;
  c.window()["hbm_bytes"] = 3.6e7;
  StepResult r = c.run();
  const double cmo_us = kDownCmoUs * 7.0 / 5.0;
  const double op_us = cmo_us + (40 - cmo_us * 5.0 / 7.0);
  EXPECT_NEAR(op_us, 50.0663296, 1e-7);
  EXPECT_NEAR(c.op(r, "window", 0).duration_us, op_us, kTol);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_NEAR(cmo[0].start_us + cmo[0].duration_us, 10 + cmo_us, kTol);
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_NEAR(s.stall_us, 0, kTol);
  EXPECT_NEAR(s.vector_slowdown_us, op_us - 40, kTol);
  EXPECT_NEAR(s.vector_slowdown_pct, 100 * (op_us - 40) / 40, 1e-6);
  EXPECT_NEAR(s.window_us, op_us, kTol);
}

TEST(SimulatorClosedForm, ContentionWithLowQosSlowsBothAndTheCmoOutlastsTheWindow) {
  // w = 0.5: the op's share is 1e6 x 9e5 / (9e5 + 0.5 x 5e5) = 18e6/23 B/us (speed 20/23), the
  // CMO's 5e6/23. The op ends first, after 40 x 23/20 = 46 us, when the CMO has moved 1e7 B; the
  // 2582912 B left move at the full 5e5 B/us: 5.165824 us more, all of it a stall.
  Closed c;
  c.hw.cmo_qos_weight = 0.5;
  c.window()["hbm_bytes"] = 3.6e7;
  StepResult r = c.run();
  EXPECT_NEAR(c.op(r, "window", 0).duration_us, 46, kTol);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_NEAR(cmo[0].start_us, 10, kTol);
  EXPECT_NEAR(cmo[0].start_us + cmo[0].duration_us, 10 + 46 + 5.165824, kTol);
  EXPECT_NEAR(site(r, "mlp.down").prefetch_us, 51.165824, kTol);
  EXPECT_NEAR(site(r, "mlp.down").stall_us, 5.165824, kTol);
}

TEST(SimulatorClosedForm, ContentionWithLowQosSlowsTheCmoOnlyAndStalls) {
  // w = 0.25, d_c = 3.2e7 / 40 = 8e5: fair share 1e6 * 0.25 / 1.25 = 2e5 = cap - d_c -> r_p = 2e5,
  // r_c = 8e5 (the op is not slowed). In the 40 us window the CMO moves 8e6 B; the 4582912 B left
  // then move at the full 5e5 B/us: 9.165824 us of stall; the CMO ends at 10 + 40 + 9.165824.
  Closed c;
  c.hw.cmo_qos_weight = 0.25;
  c.window()["hbm_bytes"] = 3.2e7;
  StepResult r = c.run();
  EXPECT_NEAR(c.op(r, "window", 0).duration_us, 40, kTol);
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_NEAR(s.stall_us, 9.165824, kTol);
  EXPECT_NEAR(s.prefetch_us, 49.165824, kTol);
  EXPECT_NEAR(s.vector_slowdown_us, 0, kTol);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_NEAR(cmo[0].start_us + cmo[0].duration_us, 59.165824, kTol);
}

TEST(SimulatorClosedForm, CmoTakesWhatTheOpLeavesWhenMoreThanItsShare) {
  // w = 0.25, d_c = 2.4e7 / 40 = 6e5: fair share 2e5 < cap - d_c = 4e5 -> r_p = 4e5, r_c = 6e5 (op
  // not slowed). The CMO takes 12582912 / 4e5 = 31.45728 us, inside the window.
  Closed c;
  c.hw.cmo_qos_weight = 0.25;
  c.window()["hbm_bytes"] = 2.4e7;
  StepResult r = c.run();
  EXPECT_NEAR(c.op(r, "window", 0).duration_us, 40, kTol);
  EXPECT_NEAR(site(r, "mlp.down").prefetch_us, 31.45728, kTol);
  EXPECT_NEAR(site(r, "mlp.down").stall_us, 0, kTol);
}

TEST(SimulatorClosedForm, NoContentionBelowHbmCapacity) {
  // d_c = 1.6e7 / 40 = 4e5; 4e5 + 5e5 <= 1e6: both run at full speed.
  Closed c;
  c.window()["hbm_bytes"] = 1.6e7;
  StepResult r = c.run();
  EXPECT_NEAR(c.op(r, "window", 0).duration_us, 40, kTol);
  EXPECT_NEAR(site(r, "mlp.down").prefetch_us, kDownCmoUs, kTol);
}

// ---------------------------------------------------------------------------------------------
// Several prefetches: one FIFO prefetch stream, L2 shared.

// Two sites fork before "window": down_proj (25.165824 us) then o_proj (4194304 / 5e5 = 8.388608 us).
nlohmann::json two_sites() {
  auto j = nlohmann::json::parse(kClosed);
  j["layer_types"]["blk"]["ops"].push_back({{"name", "o"}, {"kind", "measured"}, {"duration_us", 20}, {"linear", "o_proj"}});
  j["sites"].push_back({{"site", "attn.o"}, {"ratio_key", "attn.o"}, {"layer_type", "blk"}, {"linear", "o_proj"},
                        {"fork_before", "window"}, {"join_after", "window"}, {"target", "o"}});
  return j;
}

TEST(SimulatorClosedForm, PrefetchStreamIsFifo) {
  Closed c;
  c.tmpl = two_sites();
  StepResult r = c.run();
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 2u);
  EXPECT_EQ(cmo[0].bytes, kDownBytes);
  EXPECT_EQ(cmo[1].bytes, kOBytes);
  EXPECT_NEAR(cmo[0].start_us, 10, kTol);
  EXPECT_NEAR(cmo[1].start_us, 10 + kDownCmoUs, kTol);  // waits for the first
  EXPECT_NEAR(cmo[1].duration_us, kOBytes / kCmoRate, kTol);
  EXPECT_NEAR(site(r, "attn.o").stall_us, 0, kTol);  // 33.554432 us < 40
  EXPECT_NEAR(r.peak_l2_bytes, kDownBytes + kOBytes, 1);
  // o: 20 - 4194304 / 1e6 / 2 = 17.902848 us.
  EXPECT_NEAR(c.op(r, "o", 0).duration_us, 17.902848, kTol);
}

TEST(SimulatorClosedForm, SecondPrefetchKeepsOnlyTheL2Left) {
  // L2 of 1.5e7 B: down_proj's prefetch holds 12582912 from its fork; o_proj's moves all its
  // 4194304 bytes but L2 keeps the 2417088 left, which bounds its hit (limit "L2").
  Closed c;
  c.tmpl = two_sites();
  c.hw.l2_size_bytes = 1.5e7;
  StepResult r = c.run();
  EXPECT_EQ(site(r, "mlp.down").issued_bytes, kDownBytes);
  EXPECT_EQ(site(r, "attn.o").issued_bytes, kOBytes);
  EXPECT_STREQ(issue_limit_name(site(r, "attn.o").limit), "L2");
  EXPECT_NEAR(site(r, "attn.o").hit_bytes, 1.5e7 - kDownBytes, 1);
  EXPECT_NEAR(c.cmos(r, 0)[1].duration_us, kOBytes / kCmoRate, kTol);  // every byte moved
  EXPECT_LE(r.peak_l2_bytes, 1.5e7);
  // o: 20 - 2417088 / 1e6 / 2.
  EXPECT_NEAR(c.op(r, "o", 0).duration_us, 20 - (1.5e7 - kDownBytes) / 2e6, kTol);
  EXPECT_EQ(site(r, "mlp.down").layers, 3);
  for (const auto& s : r.l2_samples) EXPECT_LE(s.bytes, 1.5e7);
}

// ---------------------------------------------------------------------------------------------
// e. caps and L2.

// Two layer types, each prefetching gate_up_proj (24 MiB): "capped" with cap "mlp" at
// mlp.gate_up, "uncapped" with no cap at attn.qkv.
nlohmann::json cap_template() {
  return nlohmann::json::parse(R"({
    "name": "caps",
    "layer_types": {
      "capped": {"ops": [
        {"name": "pre", "kind": "measured", "duration_us": 1},
        {"name": "window", "kind": "measured", "duration_us": 100},
        {"name": "gate_up", "kind": "measured", "duration_us": 50, "linear": "gate_up_proj", "hbm_bytes": 25165824}]},
      "uncapped": {"ops": [
        {"name": "pre", "kind": "measured", "duration_us": 1},
        {"name": "window", "kind": "measured", "duration_us": 100},
        {"name": "gate_up", "kind": "measured", "duration_us": 50, "linear": "gate_up_proj", "hbm_bytes": 25165824}]}
    },
    "sites": [
      {"site": "mlp.gate_up", "ratio_key": "mlp.gate_up", "layer_type": "capped", "linear": "gate_up_proj",
       "fork_before": "window", "join_after": "window", "target": "gate_up", "cap": "mlp"},
      {"site": "attn.qkv", "ratio_key": "attn.qkv", "layer_type": "uncapped", "linear": "gate_up_proj",
       "fork_before": "window", "join_after": "window", "target": "gate_up"}
    ],
    "layer_sequence": [{"type": "capped", "count": 2}, {"type": "uncapped", "count": 2}]
  })");
}

TEST(SimulatorCaps, CodeReadingCapsOnlyTheMlpPath) {
  Closed c;
  c.tmpl = cap_template();
  StepResult r = c.run();
  const SiteSummary& capped = site(r, "mlp.gate_up");
  EXPECT_EQ(capped.weight_bytes, kGateUpBytes);
  EXPECT_EQ(capped.requested_bytes, kGateUpBytes);
  EXPECT_EQ(capped.issued_bytes, 18874368);  // MAX_PREFETCH_WEIGHT_SIZE, 18 MiB
  EXPECT_STREQ(issue_limit_name(capped.limit), "cap (code)");
  const SiteSummary& uncapped = site(r, "attn.qkv");
  EXPECT_EQ(uncapped.issued_bytes, kGateUpBytes);
  EXPECT_STREQ(issue_limit_name(uncapped.limit), "weight");
  EXPECT_NEAR(capped.prefetch_us, 18874368 / kCmoRate, kTol);
}

TEST(SimulatorCaps, GuideReadingCapsEverySite) {
  Closed c;
  c.tmpl = cap_template();
  c.options.cap_reading = CapReading::kGuide;
  StepResult r = c.run();
  for (const auto& s : r.sites) {
    EXPECT_TRUE(s.active) << s.site;
    EXPECT_LE(s.issued_bytes, 18.0 * 1024 * 1024) << s.site;
  }
  EXPECT_EQ(site(r, "attn.qkv").issued_bytes, 18874368);
  EXPECT_STREQ(issue_limit_name(site(r, "attn.qkv").limit), "cap (guide)");
}

TEST(SimulatorCaps, RatioBelowTheCap) {
  // 0.5 x 25165824 = 12582912 < 18 MiB: the ratio sets the amount.
  Closed c;
  c.tmpl = cap_template();
  c.config[RatioKey::kMlpGateUp].ratio = 0.5;
  StepResult r = c.run();
  EXPECT_EQ(site(r, "mlp.gate_up").issued_bytes, 12582912);
  EXPECT_STREQ(issue_limit_name(site(r, "mlp.gate_up").limit), "ratio");
  EXPECT_EQ(site(r, "mlp.gate_up").ratio, 0.5);
}

// More than L2 holds: the CMO still moves every byte asked for (its time), but only what L2 keeps
// can be hit.
TEST(SimulatorCaps, SmallL2BoundsTheHitNotTheBytesMoved) {
  Closed c;
  c.tmpl = cap_template();
  c.hw.l2_size_bytes = 1e7;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "attn.qkv");
  EXPECT_EQ(s.issued_bytes, kGateUpBytes);
  EXPECT_STREQ(issue_limit_name(s.limit), "L2");
  EXPECT_NEAR(s.prefetch_us, kGateUpBytes / kCmoRate, kTol);
  EXPECT_NEAR(s.hit_bytes, 1e7, 1);
  EXPECT_LE(r.peak_l2_bytes, 1e7);
  // gate_up reads 1e7 B from L2: 50 - 1e7 x (1 - 1/2) / 1e6 = 45 us.
  EXPECT_NEAR(c.op(r, "gate_up", 2).duration_us, 45, kTol);
  EXPECT_NEAR(c.op(r, "gate_up", 2).l2_read_bytes, 1e7, 1);
}

TEST(SimulatorCaps, NoL2AtAllMeansCostWithoutHit) {
  Closed c;
  c.hw.l2_size_bytes = 0;
  c.window()["duration_us"] = 10;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_TRUE(s.active);
  EXPECT_EQ(s.hit_bytes, 0);
  EXPECT_NEAR(s.stall_us, kDownCmoUs - 10, kTol);
  EXPECT_DOUBLE_EQ(r.step_time_us, 3 * (10 + kDownCmoUs + 30) + 5);
}

TEST(PlanIssue, ByHand) {
  const Semantics& sem = default_release().semantics;
  PlannedSite s;
  s.weight_bytes = 100;
  s.ratio_key = RatioKey::kMlpDown;
  WeightPrefetchConfig c = WeightPrefetchConfig::defaults_enabled(sem);
  c[RatioKey::kMlpDown].ratio = 0.333;
  IssuePlan p = plan_issue(s, c, CapReading::kCode, sem);
  EXPECT_TRUE(p.on);
  EXPECT_EQ(p.ratio, 0.333);
  EXPECT_EQ(p.requested_bytes, 33);  // int(0.333 * 100)
  EXPECT_EQ(p.issued_bytes, 33);
  EXPECT_EQ(p.limit, IssueLimit::kRatio);
  s.cap_bytes = 20;
  EXPECT_EQ(plan_issue(s, c, CapReading::kCode, sem).issued_bytes, 20);
  EXPECT_EQ(plan_issue(s, c, CapReading::kCode, sem).limit, IssueLimit::kCapCode);
  s.cap_bytes = std::numeric_limits<double>::infinity();
  PlannedSite big = s;
  big.weight_bytes = 1e8;
  EXPECT_EQ(plan_issue(big, c, CapReading::kGuide, sem).issued_bytes, 18874368);
  EXPECT_EQ(plan_issue(big, c, CapReading::kGuide, sem).limit, IssueLimit::kCapGuide);
  // A fixed-ratio site (no ratio key) follows "enabled" and ignores the ratios.
  PlannedSite fixed;
  fixed.weight_bytes = 100;
  fixed.fixed_ratio = 1.0;
  IssuePlan f = plan_issue(fixed, c, CapReading::kCode, sem);
  EXPECT_EQ(f.issued_bytes, 100);
  EXPECT_EQ(f.limit, IssueLimit::kWeight);
  EXPECT_FALSE(plan_issue(fixed, WeightPrefetchConfig::disabled(), CapReading::kCode, sem).on);
}

// v0.23.0:vllm_ascend/ops/weight_prefetch.py:236 `if max_size <= 0 ...: max_size = input_size`:
// a 0 inside an enabled module, or a ratio too small for one byte, prefetches the whole tensor, past the cap.
TEST(Rule, MaxSizeZeroPrefetchesTheWholeTensorPastTheCap) {
  const Semantics& sem = default_release().semantics;
  PlannedSite s;
  s.weight_bytes = 32768000;  // 31.25 MiB, above the cap
  s.ratio_key = RatioKey::kMlpDown;
  s.cap_bytes = sem.mlp_cap_bytes;
  WeightPrefetchConfig c = WeightPrefetchConfig::defaults_enabled(sem);
  for (double r : {0.0, 1e-9}) {
    c[RatioKey::kMlpDown].ratio = r;
    const IssuePlan p = plan_issue(s, c, CapReading::kCode, sem);
    EXPECT_EQ(p.requested_bytes, 0) << r;
    EXPECT_EQ(p.issued_bytes, s.weight_bytes) << r;
    EXPECT_EQ(p.limit, IssueLimit::kWholeTensor) << r;
  }
  // The smallest ratio that asks for one byte asks for exactly one.
  c[RatioKey::kMlpDown].ratio = 1.0 / s.weight_bytes;
  EXPECT_EQ(plan_issue(s, c, CapReading::kCode, sem).issued_bytes, 1);
  // Off (the module disabled) issues nothing at all.
  c[RatioKey::kMlpDown] = KeySetting{};
  EXPECT_FALSE(plan_issue(s, c, CapReading::kCode, sem).on);
}

TEST(CapReading, ParseAndName) {
  EXPECT_EQ(parse_cap_reading("code"), CapReading::kCode);
  EXPECT_EQ(parse_cap_reading("guide"), CapReading::kGuide);
  EXPECT_STREQ(cap_reading_name(CapReading::kGuide), "guide");
  EXPECT_PRED2(contains, error_of([] { parse_cap_reading("Guide"); }), "--cap Guide: expected \"code\"");
}

// ---------------------------------------------------------------------------------------------
// A prefetch on the compute stream (MLA/SFA) costs its whole duration in line.

TEST(SimulatorClosedForm, ComputeStreamPrefetchRunsInLine) {
  Closed c;
  c.tmpl["sites"][0].erase("join_after");
  c.tmpl["sites"][0]["stream"] = "compute";
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  ASSERT_TRUE(s.active);
  EXPECT_TRUE(s.on_compute_stream);
  EXPECT_NEAR(s.prefetch_us, kDownCmoUs, kTol);
  EXPECT_NEAR(s.stall_us, kDownCmoUs, kTol);  // in line: every microsecond of it is exposed
  EXPECT_EQ(s.join, JoinKind::kInline);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 1u);
  EXPECT_EQ(cmo[0].stream, kComputeStreamId);
  // Per layer: 10 + 25.165824 (CMO in line) + 40 + 23.708544.
  for (double t : r.layer_time_us) EXPECT_NEAR(t, 10 + kDownCmoUs + 40 + 23.708544, kTol);
  EXPECT_NEAR(s.net_gain_us, 6.291456 - kDownCmoUs, kTol);
}

// ---------------------------------------------------------------------------------------------
// e (bundled models). Issued bytes never exceed the caps or L2.

struct BundledCase {
  const char* model;
  int tp, dp;
  bool ep;
  int num_tokens;  // 0: default
};

const BundledCase kBundledCases[] = {
    {"Qwen3-8B", 4, 1, false, 0},         {"Qwen3-32B", 4, 1, false, 0},       {"Qwen3-32B", 1, 1, false, 8},
    {"Llama-3.1-70B", 4, 1, false, 0},    {"Qwen3-30B-A3B", 4, 1, false, 128}, {"Qwen3-235B-A22B", 4, 4, true, 576},
    {"DeepSeek-V3", 4, 1, false, 0},      {"DeepSeek-V3", 4, 1, false, 128},   {"Qwen3-Next-80B-A3B", 4, 1, false, 128},
};

StepPlan bundled_plan(const BundledCase& bc, const HardwareProfile& hw, const char* release = "v0.23.0") {
  ModelConfig m = load_model(bc.model);
  Deployment d;
  d.tensor_parallel = bc.tp;
  d.data_parallel = bc.dp;
  d.expert_parallel = bc.ep;
  if (bc.num_tokens) d.num_tokens = bc.num_tokens;
  return build_step_plan(m, d, hw, load_layer_template("", m), find_release(release));
}

TEST(SimulatorCaps, BundledModelsNeverExceedCapsOrL2) {
  const HardwareProfile hw = load_hardware("a3-die");
  const double cap = 18874368;  // MAX_PREFETCH_WEIGHT_SIZE
  for (const auto& bc : kBundledCases) {
    SCOPED_TRACE(std::string(bc.model) + " tp" + std::to_string(bc.tp) + " tokens " + std::to_string(bc.num_tokens));
    StepPlan plan = bundled_plan(bc, hw);
    for (CapReading reading : {CapReading::kCode, CapReading::kGuide}) {
      StepResult r = simulate_step(plan, WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{reading, true});
      int active = 0;
      for (const auto& s : r.sites) {
        if (!s.active) continue;
        ++active;
        EXPECT_LE(s.issued_bytes, s.weight_bytes) << s.site;
        EXPECT_LE(s.issued_bytes, hw.l2_size_bytes) << s.site;
        if (reading == CapReading::kGuide) { EXPECT_LE(s.issued_bytes, cap) << s.site; }
        if (s.site.rfind("mlp.", 0) == 0) { EXPECT_LE(s.issued_bytes, cap) << s.site; }
        if (s.site == "mla.o") { EXPECT_LE(s.issued_bytes, 16777216) << s.site; }
      }
      EXPECT_GT(active, 0);
      EXPECT_LE(r.peak_l2_bytes, hw.l2_size_bytes);
      for (const auto& e : r.timeline) {
        if (e.kind != EventKind::kCmo) continue;
        EXPECT_LE(e.bytes, hw.l2_size_bytes);
        if (reading == CapReading::kGuide) { EXPECT_LE(e.bytes, cap); }
      }
    }
  }
}

TEST(SimulatorCaps, Qwen3_32BDefaultMlpSitesAreCappedAt18MiB) {
  // model-shapes.md 4.4: Qwen3-32B W8A8 TP4 at ratio 1.0: gate_up 62.5 MiB -> 18 MiB, down 31.25 MiB -> 18 MiB;
  // attn.o/down_proj takes the whole 31.25 MiB, uncapped.
  const HardwareProfile hw = load_hardware("a3-die");
  StepResult r = simulate_step(bundled_plan({"Qwen3-32B", 4, 1, false, 0}, hw), WeightPrefetchConfig::defaults_enabled(default_release().semantics),
                               SimOptions{});
  EXPECT_EQ(site(r, "mlp.gate_up").issued_bytes, 18874368);
  EXPECT_STREQ(issue_limit_name(site(r, "mlp.gate_up").limit), "cap (code)");
  EXPECT_EQ(site(r, "mlp.down").issued_bytes, 18874368);
  EXPECT_EQ(site(r, "attn.o/down_proj").issued_bytes, 32768000);
  EXPECT_EQ(site(r, "attn.qkv").issued_bytes, 13107200);
  EXPECT_EQ(site(r, "attn.o").issued_bytes, 10485760);
}

// ---------------------------------------------------------------------------------------------
// f. faster HBM never makes the step slower.

TEST(SimulatorMonotonic, FasterHbmNeverSlower) {
  const BundledCase cases[] = {{"Qwen3-32B", 4, 1, false, 0}, {"Qwen3-235B-A22B", 4, 4, true, 576}, {"DeepSeek-V3", 4, 1, false, 0}};
  for (const auto& bc : cases) {
    double previous = 0;
    for (double hbm : {800.0, 1200.0, 1600.0, 2000.0, 3200.0, 6400.0}) {
      SCOPED_TRACE(std::string(bc.model) + " hbm_GBps " + std::to_string(hbm));
      HardwareProfile hw = load_hardware("a3-die");
      hw.hbm_GBps = hbm;
      const double t = simulate_step_time(bundled_plan(bc, hw), WeightPrefetchConfig::defaults_enabled(default_release().semantics), CapReading::kCode);
      EXPECT_GT(t, 0);
      if (previous > 0) { EXPECT_LE(t, previous * (1 + 1e-12)); }
      previous = t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// g. token gates.

TEST(SimulatorGates, MoeGateUpBelow96TokensPerRankDoesNotFire) {
  // Qwen3-30B-A3B, 72 tokens, TP4, no EP: ALLGATHER, 72 tokens at gating < 96.
  const HardwareProfile hw = load_hardware("a3-die");
  StepResult r = simulate_step(bundled_plan({"Qwen3-30B-A3B", 4, 1, false, 72}, hw, "v0.22.1rc1"),
                               WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{});
  const SiteSummary& s = site(r, "moe.gate_up");
  EXPECT_FALSE(s.active);
  EXPECT_PRED2(contains, s.reason, "96");
  EXPECT_PRED2(contains, s.reason, "72 tokens per rank at MoE gating");
  EXPECT_EQ(s.issued_bytes, 0);
  // At 96 tokens it fires.
  StepResult on = simulate_step(bundled_plan({"Qwen3-30B-A3B", 4, 1, false, 96}, hw, "v0.22.1rc1"),
                                WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{});
  EXPECT_TRUE(site(on, "moe.gate_up").active) << site(on, "moe.gate_up").reason;
  // 0.8 x 96 MiB = 76.8 MiB requested, uncapped in code.
  EXPECT_EQ(site(on, "moe.gate_up").requested_bytes, std::floor(0.8 * 100663296));
}

TEST(SimulatorGates, DenseMlpGateAt500Tokens) {
  const HardwareProfile hw = load_hardware("a3-die");
  StepResult r512 = simulate_step(bundled_plan({"Qwen3-32B", 4, 1, false, 512}, hw), WeightPrefetchConfig::defaults_enabled(default_release().semantics),
                                  SimOptions{});
  for (const char* name : {"mlp.gate_up", "mlp.down"}) {
    const SiteSummary& s = site(r512, name);
    EXPECT_FALSE(s.active) << name;
    EXPECT_PRED2(contains, s.reason, "512 tokens per step (padded) is not below 500");
  }
  // The attention path has no token gate.
  EXPECT_TRUE(site(r512, "attn.qkv").active);
  StepResult r256 = simulate_step(bundled_plan({"Qwen3-32B", 4, 1, false, 256}, hw), WeightPrefetchConfig::defaults_enabled(default_release().semantics),
                                  SimOptions{});
  for (const char* name : {"mlp.gate_up", "mlp.down"}) {
    EXPECT_TRUE(site(r256, name).active) << name << ": " << site(r256, name).reason;
  }
}

TEST(SimulatorGates, PaddingDecidesTheMlpGate) {
  // 490 tokens with max-num-seqs 512 pad to the capture size 496: still below 500. 499 pad to 512: not.
  const HardwareProfile hw = load_hardware("a3-die");
  ModelConfig m = load_model("Qwen3-32B");
  Deployment d;
  d.max_num_seqs = 512;
  d.num_tokens = 490;
  StepResult below = simulate_step(build_step_plan(m, d, hw, load_layer_template("", m)), WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{});
  EXPECT_TRUE(site(below, "mlp.down").active);
  d.num_tokens = 499;
  StepResult above = simulate_step(build_step_plan(m, d, hw, load_layer_template("", m)), WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{});
  EXPECT_FALSE(site(above, "mlp.down").active);
  EXPECT_PRED2(contains, site(above, "mlp.down").reason, "512 tokens per step");
}

// ---------------------------------------------------------------------------------------------
// h. simulate_step_time is simulate_step without the bookkeeping.

void expect_step_time_matches(const std::string& name) {
  const HardwareProfile hw = load_hardware("a3-die");
  ModelConfig m = load_model(name);
  StepPlan plan = build_step_plan(m, Deployment{}, hw, load_layer_template("", m));
  for (CapReading reading : {CapReading::kCode, CapReading::kGuide}) {
    SCOPED_TRACE(name + " " + cap_reading_name(reading));
    const WeightPrefetchConfig config = WeightPrefetchConfig::defaults_enabled(default_release().semantics);
    const double fast = simulate_step_time(plan, config, reading);
    const double full = simulate_step(plan, config, SimOptions{reading, false}).step_time_us;
    // Equal up to the order the layer times are summed in.
    EXPECT_NEAR(fast, full, full * 1e-12);
    EXPECT_EQ(full, simulate_step(plan, config, SimOptions{reading, true}).step_time_us);
  }
}

TEST(SimulatorConsistency, StepTimeMatchesSimulateStepForSingleLayerTypeModels) {
  for (const char* name : {"Qwen3-8B", "Qwen3-32B", "Llama-3.1-70B", "Qwen3-30B-A3B", "Qwen3-235B-A22B"}) {
    expect_step_time_matches(name);
  }
}

TEST(SimulatorConsistency, StepTimeMatchesSimulateStepForEveryBundledModel) {
  for (const auto& name : bundled_model_names()) expect_step_time_matches(name);
}

TEST(SimulatorConsistency, LayerTimesAddUpToTheStep) {
  const HardwareProfile hw = load_hardware("a3-die");
  for (const auto& bc : kBundledCases) {
    SCOPED_TRACE(bc.model);
    StepResult r = simulate_step(bundled_plan(bc, hw), WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{});
    double sum = r.step_ops_us;
    for (double t : r.layer_time_us) sum += t;
    EXPECT_NEAR(sum, r.step_time_us, r.step_time_us * 1e-12);
    for (const auto& s : r.sites) {
      if (!s.active) continue;
      EXPECT_GE(s.stall_us, 0) << s.site;
      EXPECT_GE(s.overlap_pct, 0) << s.site;
      EXPECT_LE(s.overlap_pct, 100 + 1e-9) << s.site;
      EXPECT_GE(s.matmul_saved_us, 0) << s.site;  // 0 when the matmul is compute-bound
    }
  }
}

TEST(SimulatorConsistency, RecordingTheTimelineChangesNothing) {
  const HardwareProfile hw = load_hardware("a3-die");
  StepPlan plan = bundled_plan({"Qwen3-32B", 4, 1, false, 0}, hw);
  StepResult with = simulate_step(plan, WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{CapReading::kCode, true});
  StepResult without = simulate_step(plan, WeightPrefetchConfig::defaults_enabled(default_release().semantics), SimOptions{CapReading::kCode, false});
  EXPECT_EQ(with.step_time_us, without.step_time_us);
  EXPECT_FALSE(with.timeline.empty());
  EXPECT_TRUE(without.timeline.empty());
  EXPECT_TRUE(without.l2_samples.empty());
  ASSERT_EQ(with.sites.size(), without.sites.size());
  for (size_t i = 0; i < with.sites.size(); ++i) EXPECT_EQ(with.sites[i].stall_us, without.sites[i].stall_us);
}

TEST(SimulatorConsistency, TimelineOpEventsCoverEveryPlannedOp) {
  Closed c;
  StepResult r = c.run();
  int ops = 0, records = 0, waits = 0;
  for (const auto& e : r.timeline) {
    ops += e.kind == EventKind::kOp;
    records += e.kind == EventKind::kEventRecord;
    waits += e.kind == EventKind::kEventWait;
  }
  EXPECT_EQ(ops, 3 * 3 + 1);
  EXPECT_EQ(records, 3);
  EXPECT_EQ(waits, 3);
  // The head op runs last, at the step end minus its 5 us.
  EXPECT_NEAR(c.op(r, "head", -1).start_us, r.step_time_us - 5, kTol);
}

}  // namespace
}  // namespace pt

namespace pt {
namespace {

// ---------------------------------------------------------------------------------------------
// h. the race: a matmul that runs while the prefetch of its own weight is still in flight
//    (mlp.gate_up: its wait comes after SwiGLU, after its target).

// pre 10 | fork | window (no HBM) | down (30 us, reads down_proj) | wait | post 5.
nlohmann::json race_template(double window_us) {
  auto j = nlohmann::json::parse(kClosed);
  j["layer_types"]["blk"]["ops"][1]["duration_us"] = window_us;
  j["layer_types"]["blk"]["ops"].push_back({{"name", "post"}, {"kind", "measured"}, {"duration_us", 5}});
  j["sites"][0]["join_after"] = "down";
  j["layer_sequence"][0]["count"] = 1;
  return j;
}

TEST(SimulatorRace, AnOpBehindThePrefetchFrontReadsEverythingFromL2) {
  // Window 10 us: 1e6... no: at 5e5 B/us the CMO has landed 5e6 B when down starts (t = 20). down
  // reads L2 at 1 / tau_l = 1 / (30 / W - 5e-7) = 530733 B/us, barely faster than the front
  // (5e5 B/us), so it never catches it: the whole weight comes from L2, as if it had all landed.
  Closed c;
  c.tmpl = race_template(10);
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_TRUE(s.race);
  EXPECT_NEAR(c.op(r, "down", 0).start_us, 20, kTol);
  EXPECT_NEAR(c.op(r, "down", 0).duration_us, 23.708544, kTol);
  EXPECT_NEAR(c.op(r, "down", 0).l2_read_bytes, kDownBytes, 1);
  EXPECT_NEAR(s.stall_us, 0, kTol);  // the CMO ended (t = 35.17) before the wait (t = 43.71)
  EXPECT_NEAR(r.step_time_us, 10 + 10 + 23.708544 + 5 + 5, kTol);
}

TEST(SimulatorRace, AnOpThatCatchesTheFrontGainsNothingMoreAndSharesHbmAfterwards) {
  // CMO at 1e5 B/us from t = 10. down (measured 30 us) starts at t = 20 with its fixed part,
  // 30 - W / 1e6 us without HBM traffic, while the CMO lands L0 = (10 + fixed) x 1e5 B. Then it
  // streams its weight: L2 at v = 1 / tau_l, catching the front (moving at 1e5) after
  // dt = L0 / (v - 1e5), at byte p = v dt (at t = 10 + p / 1e5); the rest from HBM, where the op
  // asks 1e6 B/us and the CMO 1e5: with w = 1 each gets cap x demand / 1.1e6, both at 1/1.1 of
  // their speed. The CMO moves every byte: (W - p) / 10 during the op's HBM phase of
  // 1.1 (W - p) / 1e6 us, the rest alone at 1e5; the wait after down stalls until then.
  Closed c;
  c.tmpl = race_template(10);
  c.hw.cmo_GBps = 100;
  StepResult r = c.run();
  const double W = kDownBytes;
  const double fixed = 30 - W / kHbmRate;
  const double tau_h = 1 / kHbmRate, tau_l = tau_h - 0.5 / kHbmRate, v = 1 / tau_l;
  const double landed = (10 + fixed) * 1e5;
  const double dt = landed / (v - 1e5), p = v * dt;
  const double down_us = fixed + p * tau_l + (W - p) * tau_h * 1.1;
  EXPECT_NEAR(c.op(r, "down", 0).duration_us, down_us, 1e-6);
  EXPECT_NEAR(c.op(r, "down", 0).l2_read_bytes, p, 1);
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_TRUE(s.race);
  EXPECT_NEAR(s.hit_bytes, p, 1);
  EXPECT_NEAR(s.matmul_saved_us, p * 0.5 / kHbmRate, 1e-6);
  EXPECT_NEAR(s.vector_slowdown_us, (W - p) * tau_h * 0.1, 1e-6);  // what the CMO cost the op
  const double cmo_end = 10 + p / 1e5 + 1.1 * (W - p) / 1e6 + 0.9 * (W - p) / 1e5;
  EXPECT_NEAR(s.stall_us, cmo_end - (20 + down_us), 1e-6);
  EXPECT_NEAR(r.step_time_us, cmo_end + 5 + 5, 1e-6);
}

TEST(SimulatorRace, APrefetchLargerThanItsL2KeepsOnlyItsLastBytes) {
  // L2 of 4e6 B: the CMO moves all W = 12582912 B (every byte costs its time) but L2 keeps only
  // [W - 4e6, W). Landed long before down, that suffix is what down reads from L2: it saves
  // 4e6 x 0.5 / 1e6 = 2 us, not the 6.29 us of the whole weight.
  Closed c;
  c.tmpl = race_template(60);
  c.tmpl["sites"][0]["join_after"] = "window";
  c.hw.l2_size_bytes = 4e6;
  StepResult r = c.run();
  const SiteSummary& s = site(r, "mlp.down");
  EXPECT_EQ(s.issued_bytes, kDownBytes);
  EXPECT_NEAR(s.prefetch_us, kDownBytes / kCmoRate, kTol);
  EXPECT_NEAR(s.hit_bytes, 4e6, 1);
  EXPECT_NEAR(s.matmul_saved_us, 2, 1e-6);
  EXPECT_EQ(s.limit, IssueLimit::kL2);
}

// ---------------------------------------------------------------------------------------------
// i. waits: one wait covers everything queued before it; a prefetch without a wait of its own is
//    covered by the next one, or by the end of a captured graph.

nlohmann::json two_waits_template() {
  return nlohmann::json::parse(R"({
    "name": "waits",
    "layer_types": {"blk": {"ops": [
      {"name": "pre", "kind": "measured", "duration_us": 10},
      {"name": "w1", "kind": "measured", "duration_us": 10},
      {"name": "w2", "kind": "measured", "duration_us": 20},
      {"name": "down", "kind": "measured", "duration_us": 30, "linear": "down_proj", "hbm_bytes": 12582912},
      {"name": "o", "kind": "measured", "duration_us": 20, "linear": "o_proj", "hbm_bytes": 4194304}]}},
    "step_ops": [{"name": "head", "kind": "measured", "duration_us": 5}],
    "sites": [
      {"site": "mlp.down", "ratio_key": "mlp.down", "layer_type": "blk", "linear": "down_proj",
       "fork_before": "w1", "no_join": true, "target": "down"},
      {"site": "attn.o", "ratio_key": "attn.o", "layer_type": "blk", "linear": "o_proj",
       "fork_before": "w2", "join_after": "w2", "target": "o"}
    ],
    "layer_sequence": [{"type": "blk", "count": 2}]
  })");
}

TEST(SimulatorWaits, AWaitCoversEveryCmoQueuedBeforeItAndSplitsTheStallInFifoOrder) {
  // down's CMO 10 -> 35.165824 (no wait of its own); o's queues behind it, 35.165824 -> 43.554432.
  // The wait after w2 starts at 40: down's CMO is done, o's stalls 3.554432 us.
  Closed c;
  c.tmpl = two_waits_template();
  StepResult r = c.run();
  const SiteSummary& down = site(r, "mlp.down");
  const SiteSummary& o = site(r, "attn.o");
  EXPECT_EQ(down.join, JoinKind::kNextWait);
  EXPECT_EQ(o.join, JoinKind::kOwn);
  EXPECT_NEAR(down.stall_us, 0, kTol);
  EXPECT_NEAR(o.stall_us, 10 + kDownCmoUs + kOBytes / kCmoRate - 40, kTol);
  auto cmo = c.cmos(r, 0);
  ASSERT_EQ(cmo.size(), 2u);
  EXPECT_NEAR(cmo[1].start_us, 10 + kDownCmoUs, kTol);
  // Both matmuls read their whole weight from L2.
  EXPECT_NEAR(c.op(r, "down", 0).duration_us, 23.708544, kTol);
  EXPECT_NEAR(c.op(r, "o", 0).duration_us, 20 - kOBytes / 2e6, kTol);
}

TEST(SimulatorWaits, AGraphJoinsWhatNoWaitCoveredAtTheEndOfTheStepAndEagerDoesNot) {
  // Only the unjoined site, slow (1e5 B/us: 125.8 us), and nothing after it waits.
  Closed c;
  c.tmpl = two_waits_template();
  c.tmpl["sites"].erase(1);
  c.tmpl["layer_sequence"][0]["count"] = 1;
  c.hw.cmo_GBps = 100;
  StepResult graph = c.run();
  const double compute_end = 10 + 10 + 20 + 30 + 20 + 5;  // down races a slow front: check below
  const SiteSummary& s = site(graph, "mlp.down");
  EXPECT_EQ(s.join, JoinKind::kStepEnd);
  // The CMO alone would end at 10 + W / 1e5; while down streams from HBM beside it both run at
  // 1/1.1 of their speed (w = 1, demands 1e6 and 1e5), so the CMO loses as much time as down does.
  const double cmo_end = 10 + kDownBytes / 1e5 + s.vector_slowdown_us;
  EXPECT_GT(s.vector_slowdown_us, 0);
  EXPECT_NEAR(graph.step_time_us, cmo_end, 1e-6);
  EXPECT_NEAR(graph.end_of_step_wait_us, cmo_end - (graph.step_time_us - graph.end_of_step_wait_us), 1e-9);
  EXPECT_GT(graph.end_of_step_wait_us, 0);
  EXPECT_LT(graph.step_time_us - graph.end_of_step_wait_us, compute_end);  // down read some of it from L2
  // Eager (no captured graph): the step ends with its compute; the CMO runs on past it.
  c.options = SimOptions{CapReading::kCode, true};
  Closed e = c;
  StepPlan plan;
  Deployment d = tp4_w8a8_8_tokens();
  d.graph_mode = false;
  plan = build_step_plan(qwen3_8b(), d, e.hw, parse_layer_template(e.tmpl.dump(), "closed.json"));
  const StepResult eager = simulate_step(plan, e.config, e.options);
  EXPECT_EQ(site(eager, "mlp.down").join, JoinKind::kNone);
  EXPECT_EQ(eager.end_of_step_wait_us, 0);
  EXPECT_GT(eager.unjoined_leftover_us, 0);
  EXPECT_NEAR(eager.step_time_us + eager.unjoined_leftover_us, cmo_end, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// j. a prefetch of another layer's weight (v0.13-v0.22 MoE: the last layer's w13) holds L2 and
//    costs its transfer, and only the last layer's own matmul reads it.

TEST(SimulatorOtherLayerWeight, OnlyTheLastLayerHitsTheLastLayersWeight) {
  Closed c;
  c.tmpl["sites"][0]["weight_of"] = "last_layer";
  StepResult r = c.run();
  ASSERT_EQ(r.layer_time_us.size(), 3u);
  for (int layer : {0, 1}) {
    EXPECT_NEAR(c.op(r, "down", layer).duration_us, 30, kTol) << layer;
    EXPECT_EQ(c.op(r, "down", layer).l2_read_bytes, 0) << layer;
    EXPECT_EQ(c.cmos(r, layer).size(), 1u) << layer;  // the CMO still runs
  }
  EXPECT_NEAR(c.op(r, "down", 2).duration_us, 23.708544, kTol);
  ASSERT_EQ(c.plan.layer_types.size(), 2u);
  EXPECT_EQ(c.plan.layer_types[1].name, "blk@last");
  // simulate_step_time (one run per layer type) agrees.
  EXPECT_NEAR(simulate_step_time(c.plan, c.config, CapReading::kCode), r.step_time_us, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// k. per-site figures add up to the step change: every microsecond the config adds or removes is
//    charged to one site (saved, stall, contention, fork and wait, the quantize it keeps unfused).

double sum_of_site_effects(const StepResult& r) {
  double sum = 0;
  for (const auto& s : r.sites) {
    if (s.active) sum += s.layers * s.net_gain_us;
  }
  return sum;
}

TEST(SimulatorAccounting, PerSiteNetGainsAddUpToTheStepChangeOnEveryBundledModel) {
  const HardwareProfile hw = load_hardware("a3-die");
  for (const char* release : {"v0.14.0rc1", "v0.18.0", "v0.23.0"}) {
    for (const auto& bc : kBundledCases) {
      SCOPED_TRACE(std::string(bc.model) + " " + release + " tokens " + std::to_string(bc.num_tokens));
      const StepPlan plan = bundled_plan(bc, hw, release);
      const WeightPrefetchConfig on = WeightPrefetchConfig::defaults_enabled(plan.semantics());
      const StepResult r = simulate_step(plan, on, SimOptions{});
      const StepResult off = simulate_step(plan, WeightPrefetchConfig::disabled(), SimOptions{});
      EXPECT_NEAR(sum_of_site_effects(r), off.step_time_us - r.step_time_us, 1e-6 * off.step_time_us);
    }
  }
}

// The dense default: attn.o/down_proj and mlp.down both prefetch down_proj; the second re-fetches
// what the first put in L2, and the hit is counted once.
TEST(SimulatorAccounting, TwoSitesOfOneWeightCountTheHitOnceAndReportTheRefetch) {
  const HardwareProfile hw = load_hardware("a3-die");
  const StepPlan plan = bundled_plan({"Qwen3-32B", 4, 1, false, 72}, hw);
  const StepResult r = simulate_step(plan, WeightPrefetchConfig::defaults_enabled(plan.semantics()), SimOptions{});
  const SiteSummary& mlp = site(r, "mlp.down");
  const SiteSummary& attn = site(r, "attn.o/down_proj");
  EXPECT_NEAR(mlp.refetched_bytes, 0, 1);
  EXPECT_NEAR(attn.refetched_bytes, 18874368, 1);  // the 18 MiB mlp.down had landed
  EXPECT_LE(mlp.hit_bytes + attn.hit_bytes, 32768000 + 1);
}

// A prefetch that reads the output of an AddRmsNorm keeps the quantize after it out of the
// graph-mode fusion: the quantize's time is part of the site's cost.
TEST(SimulatorAccounting, APrefetchAtAFusableQuantizeKeepsItUnfused) {
  const HardwareProfile hw = load_hardware("a3-die");
  const StepPlan plan = bundled_plan({"Qwen3-32B", 4, 1, false, 72}, hw);
  const StepResult r = simulate_step(plan, WeightPrefetchConfig::defaults_enabled(plan.semantics()), SimOptions{CapReading::kCode, true});
  const auto& ops = plan.layer_types[0].ops;
  double qkv_quant_us = 0;
  for (const auto& op : ops) {
    if (op.name == "qkv_quant") {
      EXPECT_TRUE(op.fuses_into_norm);
      qkv_quant_us = op.standalone_us;
    }
  }
  EXPECT_NEAR(site(r, "attn.qkv").unfused_quant_us, qkv_quant_us, 1e-9);
  // gate_up_quant has no prefetch reading its norm: fused, no event of its own.
  for (const auto& e : r.timeline) {
    if (e.kind == EventKind::kOp && e.layer_type == 0) {
      EXPECT_NE(ops[static_cast<size_t>(e.op)].name, "gate_up_quant");
    }
  }
}

}  // namespace
}  // namespace pt
