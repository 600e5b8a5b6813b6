#include "export/profile_db.h"

#include <cmath>

#include <fmt/format.h>
#include <sqlite3.h>

#include "util/error.h"

namespace pt {

namespace {

void check(int rc, sqlite3* db, const std::string& path, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw InputError(fmt::format("{}: SQLite {} failed: {}", path, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
}

struct Binder {
  sqlite3_stmt* s;
  int i = 1;
  Binder& operator()(int64_t v) {
    sqlite3_bind_int64(s, i++, v);
    return *this;
  }
  Binder& operator()(int v) { return (*this)(static_cast<int64_t>(v)); }
  Binder& operator()(double v) {
    sqlite3_bind_double(s, i++, v);
    return *this;
  }
  Binder& operator()(const std::string& v) {
    sqlite3_bind_text(s, i++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& null() {
    sqlite3_bind_null(s, i++);
    return *this;
  }
};

void run(sqlite3_stmt* s, const std::string& path) {
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) throw InputError(fmt::format("{}: SQLite insert failed: {}", path, sqlite3_errmsg(sqlite3_db_handle(s))));
}

// msprof's ENUM_API_TYPE ids (CANN_API.type).
constexpr int kApiTypeAcl = 20000;
constexpr int kApiTypeHccl = 5500;

}  // namespace

SqliteFile::SqliteFile(const std::string& path) : path_(path) {
  std::remove(path.c_str());
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(fmt::format("{}: cannot create the SQLite file: {}", path, msg));
  }
  exec("PRAGMA journal_mode=OFF");
  exec("PRAGMA synchronous=OFF");
  exec("BEGIN");
}

SqliteFile::~SqliteFile() {
  for (auto* s : statements_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

void SqliteFile::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw InputError(fmt::format("{}: SQLite failed: {} ({})", path_, msg, sql.substr(0, 60)));
  }
}

sqlite3_stmt* SqliteFile::prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  check(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), db_, path_, "prepare");
  statements_.push_back(s);
  return s;
}

void SqliteFile::commit() { exec("COMMIT"); }

// ---- ascend_pytorch_profiler_<rank>.db / msprof_<stamp>.db ---------------------------------

ProfileDbWriter::ProfileDbWriter(const std::string& path, const ProfileDbInfo& info) : info_(info) {
  db_ = std::make_unique<SqliteFile>(path);
  db_->exec(
      "CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT);"
      "CREATE TABLE TASK (startNs INTEGER, endNs INTEGER, deviceId INTEGER, connectionId INTEGER, globalTaskId INTEGER PRIMARY KEY, "
      "globalPid INTEGER, taskType INTEGER, contextId INTEGER, streamId INTEGER, taskId INTEGER, modelId INTEGER);"
      "CREATE TABLE COMPUTE_TASK_INFO (name INTEGER, globalTaskId INTEGER PRIMARY KEY, blockDim INTEGER, mixBlockDim INTEGER, "
      "taskType INTEGER, opType INTEGER, inputFormats INTEGER, inputDataTypes INTEGER, inputShapes INTEGER, outputFormats INTEGER, "
      "outputDataTypes INTEGER, outputShapes INTEGER, attrInfo INTEGER, opState INTEGER, hf32Eligible INTEGER);"
      "CREATE TABLE TASK_PMU_INFO (globalTaskId INTEGER, name INTEGER, value NUMERIC);"
      "CREATE TABLE COMMUNICATION_OP (opName INTEGER, startNs INTEGER, endNs INTEGER, connectionId INTEGER, groupName INTEGER, "
      "opId INTEGER PRIMARY KEY, relay INTEGER, retry INTEGER, dataType INTEGER, algType INTEGER, count NUMERIC, opType INTEGER, "
      "waitNs INTEGER);"
      "CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, type INTEGER, globalTid INTEGER, connectionId INTEGER PRIMARY KEY, "
      "name INTEGER);"
      "CREATE TABLE ENUM_API_TYPE (id INTEGER PRIMARY KEY, name TEXT);"
      // HCCL's HcclDataType values, as msprof writes them (COMMUNICATION_OP.dataType).
      "CREATE TABLE ENUM_HCCL_DATA_TYPE (id INTEGER PRIMARY KEY, name TEXT);"
      "INSERT INTO ENUM_HCCL_DATA_TYPE VALUES (0, 'INT8'), (1, 'INT16'), (2, 'INT32'), (3, 'FP16'), (4, 'FP32'), (5, 'INT64'), "
      "(6, 'UINT64'), (7, 'UINT8'), (8, 'UINT16'), (9, 'UINT32'), (10, 'FP64'), (11, 'BFP16'), (12, 'INT128'), (255, 'RESERVED');"
      "INSERT INTO ENUM_API_TYPE VALUES (5000, 'runtime'), (5500, 'communication'), (10000, 'node'), (15000, 'model'), "
      "(20000, 'acl'), (50001, 'op'), (50002, 'queue'), (50003, 'trace'), (50004, 'mstx');"
      "CREATE TABLE STEP_TIME (id INTEGER, startNs INTEGER, endNs INTEGER);"
      "CREATE TABLE META_DATA (name TEXT, value TEXT);"
      "CREATE TABLE RANK_DEVICE_MAP (rankId INTEGER, deviceId INTEGER);"
      "CREATE TABLE SESSION_TIME_INFO (startTimeNs INTEGER, endTimeNs INTEGER);"
      "CREATE TABLE NPU_INFO (id INTEGER, name TEXT);"
      "CREATE TABLE HOST_INFO (hostUid TEXT, hostName TEXT);"
      "CREATE TABLE AICORE_FREQ (deviceId INTEGER, timestampNs INTEGER, freq INTEGER);");
  if (info.torch) {
    db_->exec(
        "CREATE TABLE PYTORCH_API (startNs INTEGER, endNs INTEGER, globalTid INTEGER, connectionId INTEGER, name INTEGER, "
        "sequenceNumber INTEGER, fwdThreadId INTEGER, inputDtypes INTEGER, inputShapes INTEGER, callchainId INTEGER, type INTEGER);"
        "CREATE TABLE CONNECTION_IDS (id INTEGER, connectionId INTEGER);");
    torch_ = db_->prepare("INSERT INTO PYTORCH_API VALUES (?, ?, ?, ?, ?, -1, 0, NULL, NULL, NULL, 50001)");
    conn_ = db_->prepare("INSERT INTO CONNECTION_IDS VALUES (?, ?)");
  }
  string_ = db_->prepare("INSERT INTO STRING_IDS VALUES (?, ?)");
  task_ = db_->prepare("INSERT INTO TASK VALUES (?, ?, ?, ?, ?, ?, ?, 4294967295, ?, ?, 4294967295)");
  compute_ = db_->prepare("INSERT INTO COMPUTE_TASK_INFO VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)");
  pmu_ = db_->prepare("INSERT INTO TASK_PMU_INFO VALUES (?, ?, ?)");
  comm_ = db_->prepare("INSERT INTO COMMUNICATION_OP VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)");
  cann_ = db_->prepare("INSERT INTO CANN_API VALUES (?, ?, ?, ?, ?, ?)");
  step_ = db_->prepare("INSERT INTO STEP_TIME VALUES (?, ?, ?)");
  global_tid_ = (static_cast<int64_t>(info.pid) << 32) | info.pid;
}

ProfileDbWriter::~ProfileDbWriter() = default;

int64_t ProfileDbWriter::id(const std::string& s) {
  auto [it, fresh] = strings_.emplace(s, static_cast<int64_t>(strings_.size()));
  if (fresh) {
    Binder{string_}(it->second)(s);
    run(string_, db_->path());
  }
  return it->second;
}

void ProfileDbWriter::add_task(int64_t global_id, int64_t start_ns, int64_t end_ns, int64_t connection, const std::string& task_type,
                               int stream, int task_id) {
  Binder{task_}(start_ns)(end_ns)(info_.device)(connection)(global_id)(static_cast<int64_t>(info_.pid))(id(task_type))(stream)(task_id);
  run(task_, db_->path());
}

void ProfileDbWriter::add_compute(int64_t global_id, const std::string& name, const std::string& op_type, const std::string& task_type,
                                  int block, const std::string& input_shapes, const std::string& input_types,
                                  const std::string& input_formats, const std::string& output_shapes, const std::string& output_types,
                                  const std::string& output_formats) {
  Binder{compute_}(id(name))(global_id)(block)(id(task_type))(id(op_type))(id(input_formats))(id(input_types))(id(input_shapes))(
      id(output_formats))(id(output_types))(id(output_shapes))(id("dynamic"))(id("NO"));
  run(compute_, db_->path());
}

void ProfileDbWriter::add_pmu(int64_t global_id, bool cube, double core_us, double compute_us, double read_us, double write_us,
                              double freq_mhz) {
  // The same counters as kernel_details' PMU columns (profile_export.cc).
  auto put = [&](const char* name, double v) {
    Binder{pmu_}(global_id)(id(name))(v);
    run(pmu_, db_->path());
  };
  auto ratio = [&](double v) { return core_us > 0 ? v / core_us : 0.0; };
  if (cube) {
    put("aicore_time", core_us);
    put("aic_total_cycles", std::round(core_us * freq_mhz));
    put("aic_mac_time", compute_us);
    put("aic_mac_ratio", ratio(compute_us));
    put("aic_mte2_time", read_us);
    put("aic_mte2_ratio", ratio(read_us));
    put("aic_fixpipe_time", write_us);
    put("aic_fixpipe_ratio", ratio(write_us));
  } else {
    put("aiv_time", core_us);
    put("aiv_total_cycles", std::round(core_us * freq_mhz));
    put("aiv_vec_time", compute_us);
    put("aiv_vec_ratio", ratio(compute_us));
    put("aiv_mte2_time", read_us);
    put("aiv_mte2_ratio", ratio(read_us));
    put("aiv_mte3_time", write_us);
    put("aiv_mte3_ratio", ratio(write_us));
  }
}

void ProfileDbWriter::add_communication(const std::string& op_name, const std::string& group, int64_t start_ns, int64_t end_ns,
                                        int64_t connection, const std::string& pattern, int64_t wait_ns, double bytes) {
  const std::string type = pattern == "all_reduce" ? "hcom_allReduce_" : pattern == "all_gather" ? "hcom_allGather_"
                           : pattern == "reduce_scatter"                                         ? "hcom_reduceScatter_"
                                                                                                 : "hcom_alltoall_";
  constexpr int kBfp16 = 11;
  Binder{comm_}(id(op_name))(start_ns)(end_ns)(connection)(id(group))(++op_id_)(kBfp16)(id("MESH"))(std::floor(bytes / 2))(id(type))(
      wait_ns);
  run(comm_, db_->path());
}

void ProfileDbWriter::add_launch(const std::string& torch_name, const std::string& cann_name, int64_t start_ns, int64_t end_ns,
                                 int64_t connection) {
  const bool hccl = cann_name.rfind("Hccl", 0) == 0;
  Binder{cann_}(start_ns)(end_ns)(hccl ? kApiTypeHccl : kApiTypeAcl)(global_tid_)(connection)(id(cann_name));
  run(cann_, db_->path());
  if (torch_) {
    add_pytorch_api(torch_name, start_ns, end_ns, ++torch_connection_);
    Binder{conn_}(torch_connection_)(connection);
    run(conn_, db_->path());
  }
}

void ProfileDbWriter::add_pytorch_api(const std::string& name, int64_t start_ns, int64_t end_ns, int64_t connection) {
  if (!torch_) return;
  Binder{torch_}(start_ns)(end_ns)(global_tid_)(connection)(id(name));
  run(torch_, db_->path());
}

void ProfileDbWriter::add_step(int step, int64_t start_ns, int64_t end_ns) {
  Binder{step_}(step)(start_ns)(end_ns);
  run(step_, db_->path());
}

void ProfileDbWriter::finish(int64_t start_ns, int64_t end_ns) {
  auto meta = [&](const std::string& name, const std::string& value) {
    sqlite3_stmt* s = db_->prepare("INSERT INTO META_DATA VALUES (?, ?)");
    Binder{s}(name)(value);
    run(s, db_->path());
  };
  meta("SCHEMA_VERSION", "1.0.0");
  meta("rank_id", std::to_string(info_.rank));
  if (!info_.distributed_args.empty()) meta("distributed_args", info_.distributed_args);
  if (!info_.parallel_group_info.empty()) meta("parallel_group_info", info_.parallel_group_info);
  meta("prefetch_tuner", "simulated profile");
  db_->exec(fmt::format("INSERT INTO RANK_DEVICE_MAP VALUES ({}, {});", info_.rank, info_.device));
  db_->exec(fmt::format("INSERT INTO SESSION_TIME_INFO VALUES ({}, {});", start_ns, end_ns));
  db_->exec(fmt::format("INSERT INTO NPU_INFO VALUES ({}, 'Ascend');", info_.device));
  db_->exec("INSERT INTO HOST_INFO VALUES ('0', 'localhost.localdomain');");
  if (info_.aic_frequency_mhz > 0) {
    db_->exec(fmt::format("INSERT INTO AICORE_FREQ VALUES ({}, {}, {});", info_.device, start_ns, std::llround(info_.aic_frequency_mhz)));
  }
  db_->commit();
}

// ---- analysis.db -----------------------------------------------------------------------------

AnalysisDbWriter::AnalysisDbWriter(const std::string& path) {
  db_ = std::make_unique<SqliteFile>(path);
  db_->exec(
      "CREATE TABLE StepTraceTime (step TEXT, computing NUMERIC, communication_not_overlapped NUMERIC, overlapped NUMERIC, "
      "communication NUMERIC, free NUMERIC, stage NUMERIC, bubble NUMERIC, communication_not_overlapped_and_exclude_receive NUMERIC, "
      "preparing NUMERIC);"
      "CREATE TABLE CommAnalyzerTime (hccl_op_name TEXT, group_name TEXT, start_timestamp NUMERIC, elapse_time NUMERIC, "
      "transit_time NUMERIC, wait_time NUMERIC, synchronization_time NUMERIC, idle_time NUMERIC, synchronization_time_ratio NUMERIC, "
      "wait_time_ratio NUMERIC, step TEXT, type TEXT);"
      "CREATE TABLE CommAnalyzerBandwidth (hccl_op_name TEXT, group_name TEXT, transport_type TEXT, transit_size NUMERIC, "
      "transit_time NUMERIC, bandwidth NUMERIC, large_packet_ratio NUMERIC, package_size NUMERIC, count NUMERIC, "
      "total_duration NUMERIC, step TEXT, type TEXT);"
      "CREATE TABLE CommAnalyzerMatrix (hccl_op_name TEXT, group_name TEXT, src_rank TEXT, dst_rank TEXT, transport_type TEXT, "
      "transit_size NUMERIC, transit_time NUMERIC, bandwidth NUMERIC, op_name TEXT, step TEXT, type TEXT);");
  step_ = db_->prepare("INSERT INTO StepTraceTime VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  time_ = db_->prepare("INSERT INTO CommAnalyzerTime VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 'collective')");
  band_ = db_->prepare("INSERT INTO CommAnalyzerBandwidth VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1, ?, ?, 'collective')");
  matrix_ = db_->prepare("INSERT INTO CommAnalyzerMatrix VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'collective')");
}

AnalysisDbWriter::~AnalysisDbWriter() = default;

void AnalysisDbWriter::add_step_trace(int step, double computing, double not_overlapped, double overlapped, double communication,
                                      double free, double stage, double bubble, double not_overlapped_exclude_receive,
                                      double preparing) {
  Binder{step_}(std::to_string(step))(computing)(not_overlapped)(overlapped)(communication)(free)(stage)(bubble)(
      not_overlapped_exclude_receive)(preparing);
  run(step_, db_->path());
}

void AnalysisDbWriter::add_communication(int step, const std::string& op_name, const std::string& group, const std::string& start_us,
                                         double elapse_ms, double transit_ms, double wait_ms, double size_mb, int rank) {
  (void)rank;
  const double ratio = wait_ms + transit_ms > 0 ? wait_ms / (wait_ms + transit_ms) : 0;
  const std::string s = fmt::format("step{}", step);
  Binder{time_}(op_name)(group)(std::stod(start_us))(elapse_ms)(transit_ms)(wait_ms)(wait_ms)(ratio)(ratio)(s);
  run(time_, db_->path());
  for (const char* transport : {"HCCS", "SDMA"}) {
    Binder{band_}(op_name)(group)(std::string(transport))(size_mb)(transit_ms)(transit_ms > 0 ? size_mb / transit_ms : 0.0)(size_mb)(
        transit_ms)(s);
    run(band_, db_->path());
  }
}

void AnalysisDbWriter::add_matrix(int step, const std::string& hccl_op_name, const std::string& group, int src, int dst,
                                  const std::string& transport, double size_mb, double time_ms, const std::string& op_name) {
  Binder{matrix_}(hccl_op_name)(group)(std::to_string(src))(std::to_string(dst))(transport)(size_mb)(time_ms)(
      time_ms > 0 ? size_mb / time_ms : 0.0)(op_name)(fmt::format("step{}", step));
  run(matrix_, db_->path());
}

void AnalysisDbWriter::finish() { db_->commit(); }

}  // namespace pt
