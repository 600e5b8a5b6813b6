#pragma once
// The SQLite export the Ascend profilers write with export_type "db": msprof's schema (tables TASK,
// COMPUTE_TASK_INFO, COMMUNICATION_OP, CANN_API, PYTORCH_API, STRING_IDS ...), as the
// msprof-analyze recipes query it (docs/profile-formats.md names the queries), and torch_npu's
// per-rank analysis.db (CommAnalyzerTime / Bandwidth / Matrix, StepTraceTime).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace pt {

struct ProfileDbInfo {
  int rank = 0;
  int device = 0;
  int pid = 0;
  bool torch = true;             // ascend_pytorch_profiler_<rank>.db (PYTORCH_API); false: msprof_<stamp>.db
  int64_t session_start_ns = 0;
  std::string distributed_args;      // JSON
  std::string parallel_group_info;   // JSON (ast.literal_eval-able: no true/false/null)
  double aic_frequency_mhz = 0;
};

// One open SQLite file; statements prepared once; everything inside one transaction.
class SqliteFile {
 public:
  explicit SqliteFile(const std::string& path);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;
  void exec(const std::string& sql);
  sqlite3_stmt* prepare(const std::string& sql);
  void commit();
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<sqlite3_stmt*> statements_;
};

class ProfileDbWriter {
 public:
  ProfileDbWriter(const std::string& path, const ProfileDbInfo& info);
  ~ProfileDbWriter();
  void add_task(int64_t global_id, int64_t start_ns, int64_t end_ns, int64_t connection, const std::string& task_type, int stream,
                int task_id);
  void add_compute(int64_t global_id, const std::string& name, const std::string& op_type, const std::string& task_type, int block,
                   const std::string& input_shapes, const std::string& input_types, const std::string& input_formats,
                   const std::string& output_shapes, const std::string& output_types, const std::string& output_formats);
  void add_pmu(int64_t global_id, bool cube, double core_us, double compute_us, double read_us, double write_us, double freq_mhz);
  void add_communication(const std::string& op_name, const std::string& group, int64_t start_ns, int64_t end_ns, int64_t connection,
                         const std::string& pattern, int64_t wait_ns, double bytes);
  // A host launch: the CANN API call (and, with torch, the PyTorch op that made it).
  void add_launch(const std::string& torch_name, const std::string& cann_name, int64_t start_ns, int64_t end_ns, int64_t connection);
  void add_pytorch_api(const std::string& name, int64_t start_ns, int64_t end_ns, int64_t connection);
  void add_step(int step, int64_t start_ns, int64_t end_ns);
  void finish(int64_t start_ns, int64_t end_ns);

 private:
  int64_t id(const std::string& s);
  ProfileDbInfo info_;
  std::unique_ptr<SqliteFile> db_;
  std::map<std::string, int64_t> strings_;
  sqlite3_stmt *string_ = nullptr, *task_ = nullptr, *compute_ = nullptr, *pmu_ = nullptr, *comm_ = nullptr, *cann_ = nullptr,
               *torch_ = nullptr, *conn_ = nullptr, *step_ = nullptr;
  int64_t op_id_ = 0, torch_connection_ = 0;
  int64_t global_tid_ = 0;
};

class AnalysisDbWriter {
 public:
  explicit AnalysisDbWriter(const std::string& path);
  ~AnalysisDbWriter();
  void add_step_trace(int step, double computing, double not_overlapped, double overlapped, double communication, double free,
                      double stage, double bubble, double not_overlapped_exclude_receive, double preparing);
  void add_communication(int step, const std::string& op_name, const std::string& group, const std::string& start_us, double elapse_ms,
                         double transit_ms, double wait_ms, double size_mb, int rank);
  // hccl_op_name is torch_npu's aggregate ("allreduce-top1", "allreduce-total"); op_name the op behind it.
  void add_matrix(int step, const std::string& hccl_op_name, const std::string& group, int src, int dst, const std::string& transport,
                  double size_mb, double time_ms, const std::string& op_name);
  void finish();

 private:
  std::unique_ptr<SqliteFile> db_;
  sqlite3_stmt *step_ = nullptr, *time_ = nullptr, *band_ = nullptr, *matrix_ = nullptr;
};

}  // namespace pt
