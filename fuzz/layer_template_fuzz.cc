// Layer template JSON (parse_layer_template). A template that parses is instantiated with a
// bundled model whose layer types it has (so every expression is evaluated against real shape
// variables), and the plan is simulated with prefetch on, as simulate --layer does.
#include <algorithm>
#include <cmath>
#include <vector>

#include "config/prefetch_config.h"
#include "fuzz_support.h"
#include "hardware/hardware_profile.h"
#include "model/model_config.h"
#include "vllm_ascend/release.h"
#include "sim/layer_template.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace {

const std::vector<pt::ModelConfig>& models() {
  static const std::vector<pt::ModelConfig> m = {pt::load_model("Qwen3-8B"), pt::load_model("Qwen3-30B-A3B"),
                                                 pt::load_model("DeepSeek-V3"), pt::load_model("Qwen3-Next-80B-A3B")};
  return m;
}

// The first model whose decoder layer types all exist in the template.
const pt::ModelConfig* model_for(const pt::LayerTemplate& t, size_t salt) {
  if (!t.layer_sequence.empty()) return &models()[salt % models().size()];
  for (const auto& m : models()) {
    bool all = true;
    for (int i = 0; i < m.num_hidden_layers && all; ++i) all = t.layer_types.count(pt::default_layer_type(m, i)) > 0;
    if (all) return &m;
  }
  return &models()[salt % models().size()];  // build_step_plan refuses it: that path is fuzzed too
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const pt::HardwareProfile hardware = pt::load_hardware("a3-die");
  const std::string text = pt::fuzz::text_of(data, size);
  pt::LayerTemplate t;
  if (!pt::fuzz::accepts([&] { t = pt::parse_layer_template(text, "template.json"); }, "template.json")) return 0;
  const pt::ModelConfig& model = *model_for(t, size);
  pt::fuzz::accepts([&] {
    pt::Deployment d;
    d.num_tokens = 1 + static_cast<int>(size % 600);
    d.expert_parallel = size % 3 == 0;
    const pt::StepPlan plan = pt::build_step_plan(model, d, hardware, t);
    pt::SimOptions o;
    o.record_timeline = true;
    const pt::StepResult r = pt::simulate_step(plan, pt::WeightPrefetchConfig::defaults_enabled(pt::default_release().semantics), o);
    if (!std::isfinite(r.step_time_us) || r.step_time_us < 0) {
      pt::fuzz::invariant_failed("step time not finite", std::to_string(r.step_time_us));
    }
    // Contention only slows ops down and a wait is never negative; beyond rounding (relative to
    // the step) a negative one means the times lost their precision (flops "1e300" did that).
    const double rounding = 1e-9 * std::max(1.0, r.step_time_us);
    for (const auto& s : r.sites) {
      if (s.active && (s.vector_slowdown_us < -rounding || s.stall_us < -rounding)) {
        pt::fuzz::invariant_failed("negative vec slow or stall", s.site + " " + std::to_string(s.vector_slowdown_us));
      }
    }
  });
  return 0;
}
