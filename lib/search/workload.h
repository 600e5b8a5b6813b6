#pragma once
// The batches a server runs, as token counts with weights. One static config serves them all,
// so tune-ratio optimizes the weighted mean step time over this list.
#include <string>
#include <vector>

#include "config/deployment.h"

namespace pt {

struct WorkloadPoint {
  int num_tokens = 0;
  double weight = 1;
};

// "--num-tokens 8,16,32,72 --weights 1,1,2,4"; empty weights mean equal weights.
std::vector<WorkloadPoint> workload_from_lists(const std::vector<int>& tokens, const std::vector<double>& weights);
// CSV with columns num_tokens,weight (weight optional).
std::vector<WorkloadPoint> parse_workload_csv(const std::string& text, const std::string& source);
std::vector<WorkloadPoint> load_workload_csv(const std::string& path);
// Every capture size the release would use for --max-num-seqs (and speculative tokens), equal weights.
std::vector<WorkloadPoint> workload_from_capture_sizes(const Deployment& deployment, const Release& release,
                                                       const CaptureModel& model);

}  // namespace pt
