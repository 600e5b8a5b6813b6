#pragma once
// calibrate's run: every rank of every profile named (a cluster directory is all its ranks, read
// `threads` at a time and reduced to a compact sample each, so memory holds `threads` profiles),
// the plan of each run (its token count given or read from its matmul shapes), the model check,
// the fit (analyze/calibration.h), and the calibrated simulator against the runs it came from.
// export/calibrate_report.h renders it; app/ only reads flags and files.
#include <string>
#include <vector>

#include "analyze/calibration.h"
#include "sim/scenario.h"

namespace pt {

struct CalibrateRun {
  size_t profiles_named = 0;          // paths given
  size_t runs_read = 0;               // ranks read over all of them (= profiles_named without clusters)
  std::vector<int> num_tokens;        // per run read, in order
  Calibration calibration;            // fitted_on: the scenario's model, deployment, hardware, release
  std::vector<Reproduction> checks;   // one per token count, a cluster's ranks averaged
};

// `num_tokens`: one per path (a cluster's ranks share it), or empty to read each run's from its
// matmul shapes. InputError when a count is missing and cannot be read, when the counts do not
// match the paths, or when a path holds no profile. A profile whose matmuls do not fit the
// scenario's model adds a note to the calibration (analyze/model_check.h).
CalibrateRun run_calibrate(const Scenario& base, const std::vector<std::string>& profile_paths, const std::vector<int>& num_tokens,
                           int threads);

}  // namespace pt
