#include "profile/profile.h"

namespace pt {

bool ProfileTask::is_compute() const {
  return task_type == "AI_CORE" || task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIC" || task_type == "MIX_AIV" ||
         task_type == "AI_CPU" || task_type == "FFTS_PLUS";
}
bool ProfileTask::is_cube() const { return task_type == "AI_CORE" || task_type == "MIX_AIC"; }
bool ProfileTask::is_vector() const { return task_type == "AI_VECTOR_CORE" || task_type == "MIX_AIV"; }
bool ProfileTask::is_communication() const { return task_type == "HCCL" || task_type == "COMMUNICATION"; }

bool Profile::has_cmo() const {
  for (const auto& t : tasks) {
    if (t.is_cmo()) return true;
  }
  return false;
}

}  // namespace pt
