#include "sim/simulate_with_baseline.h"

namespace pt {

double SimulateRun::difference_pct() const {
  return baseline.step_time_us > 0 ? 100.0 * (with_config.step_time_us - baseline.step_time_us) / baseline.step_time_us : 0;
}

SimulateRun simulate_with_baseline(const Scenario& scenario, bool record_timeline, std::optional<ComparedConfig> compare) {
  SimulateRun r;
  r.scenario = &scenario;
  SimOptions options;
  options.cap_reading = scenario.cap_reading;
  options.record_timeline = record_timeline;
  r.with_config = simulate_step(scenario.plan, scenario.config, options);
  options.record_timeline = false;
  r.baseline = simulate_step(scenario.plan, WeightPrefetchConfig::disabled(), options);
  if (compare) {
    r.compared = simulate_step(scenario.plan, compare->config, options);
    r.compare = std::move(compare);
  }
  return r;
}

}  // namespace pt
