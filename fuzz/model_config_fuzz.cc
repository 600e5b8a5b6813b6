// Hugging Face config.json (parse_model_config). A model that parses is also planned with its
// family's bundled layer template on a bundled hardware profile and simulated, as simulate does.
#include <cmath>

#include "config/prefetch_config.h"
#include "fuzz_support.h"
#include "hardware/hardware_profile.h"
#include "model/linear_shapes.h"
#include "model/model_config.h"
#include "vllm_ascend/release.h"
#include "sim/layer_template.h"
#include "sim/simulator.h"
#include "sim/step_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const pt::HardwareProfile hardware = pt::load_hardware("a3-die");
  const std::string text = pt::fuzz::text_of(data, size);
  pt::ModelConfig model;
  if (!pt::fuzz::accepts([&] { model = pt::parse_model_config(text, "config.json"); }, "config.json")) return 0;
  model.name = "fuzz";
  pt::fuzz::accepts([&] {
    pt::Deployment d;
    d.num_tokens = 1 + static_cast<int>(size % 600);
    d.expert_parallel = size % 2 == 0;
    const pt::LayerTemplate t = pt::load_layer_template("", model);
    const pt::StepPlan plan = pt::build_step_plan(model, d, hardware, t);
    const double step = pt::simulate_step_time(plan, pt::WeightPrefetchConfig::defaults_enabled(pt::default_release().semantics), pt::CapReading::kCode);
    if (!std::isfinite(step) || step < 0) pt::fuzz::invariant_failed("step time not finite", std::to_string(step));
  });
  return 0;
}
