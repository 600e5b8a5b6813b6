#pragma once
// The simulated timeline as the Ascend profiler would show it: a kernel_details-style CSV and a
// Chrome trace with an "Ascend Hardware" process, one thread per stream, fork/join flows and a
// counter of prefetched bytes held in L2.
#include <string>

#include "sim/simulator.h"
#include "sim/step_plan.h"

namespace pt {

// Header of the CSV: the profiler's kernel_details.csv names first, then ours.
const char* timeline_csv_header();

std::string timeline_csv(const StepPlan& plan, const StepResult& result);
std::string chrome_trace_json(const StepPlan& plan, const StepResult& result);

}  // namespace pt
