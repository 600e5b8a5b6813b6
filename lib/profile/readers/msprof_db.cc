// The profilers' SQLite export: ascend_pytorch_profiler[_<rank>].db (torch_npu, export_type db)
// and msprof_<stamp>.db. Tasks come from TASK, named and typed by COMPUTE_TASK_INFO (compute
// kernels) or COMMUNICATION_OP (by connection id; also the collectives, with their groupName), their
// other strings from STRING_IDS; steps from STEP_TIME. Read row by row, in start order.
#include <algorithm>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>
#include <sqlite3.h>

#include "profile/readers/readers.h"
#include "util/error.h"
#include "util/printable.h"

namespace pt {

namespace {

struct Db {
  sqlite3* db = nullptr;
  std::string path;
  explicit Db(const std::string& p) : path(p) {
    const int rc = sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      db = nullptr;
      throw InputError(fmt::format("{}: cannot open as SQLite: {}", p, msg));
    }
  }
  ~Db() { sqlite3_close(db); }
  bool has_table(const char* name) const {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &s, nullptr) != SQLITE_OK) {
      fail("reading its tables");
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    const bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
  }
  bool has_column(const char* table, const char* column) const {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &s, nullptr) != SQLITE_OK) {
      fail("reading its columns");
    }
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
    const bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: SQLite error {}: {} (not a profiler database?)", path, what, sqlite3_errmsg(db)));
  }
};

struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(const Db& db, const std::string& sql) {
    if (sqlite3_prepare_v2(db.db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) db.fail("preparing \"" + sql.substr(0, 60) + "\"");
  }
  ~Statement() { sqlite3_finalize(s); }
  bool step(const Db& db) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) db.fail("reading");
    return false;
  }
  bool null(int i) const { return sqlite3_column_type(s, i) == SQLITE_NULL; }
  int64_t integer(int i) const { return sqlite3_column_int64(s, i); }
  std::string_view text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string_view();
  }
};

}  // namespace

void read_msprof_db_path(const std::string& path, ReadContext& ctx) {
  Db db(path);
  for (const char* table : {"TASK", "STRING_IDS"}) {
    if (!db.has_table(table)) {
      throw InputError(fmt::format("{}: no {} table: not a profiler database (ascend_pytorch_profiler_*.db or msprof_*.db)", path, table));
    }
  }
  StringPool& pool = *ctx.profile.strings;
  // STRING_IDS, interned once each (they are what TASK and COMPUTE_TASK_INFO refer to).
  std::unordered_map<int64_t, std::string_view> strings;
  {
    Statement s(db, "SELECT id, value FROM STRING_IDS");
    while (s.step(db)) {
      const std::string_view v = s.text(1);
      if (invalid_utf8_at(v) != std::string_view::npos) {
        throw InputError(fmt::format("{}: STRING_IDS id {}: not valid UTF-8", path, s.integer(0)));
      }
      strings.emplace(s.integer(0), pool.intern(v));
    }
  }
  auto str = [&](const Statement& s, int i) -> std::string_view {
    if (s.null(i)) return {};
    auto it = strings.find(s.integer(i));
    return it == strings.end() ? std::string_view() : it->second;
  };
  // Collectives by connection id (few: one per op).
  std::unordered_map<int64_t, std::string_view> collectives;
  if (db.has_table("COMMUNICATION_OP")) {
    const bool grouped = db.has_column("COMMUNICATION_OP", "groupName");
    Statement s(db, grouped ? "SELECT connectionId, opName, startNs, endNs, groupName FROM COMMUNICATION_OP ORDER BY startNs"
                            : "SELECT connectionId, opName, startNs, endNs FROM COMMUNICATION_OP ORDER BY startNs");
    while (s.step(db)) {
      collectives.emplace(s.integer(0), str(s, 1));
      ProfileTask c;
      c.name = str(s, 1);
      if (grouped) c.site = str(s, 4);
      c.task_type = "COMMUNICATION";
      c.start_us = ctx.origin.relative_us(s.integer(2));
      c.duration_us = static_cast<double>(s.integer(3) - s.integer(2)) / 1000.0;
      ctx.profile.collectives.push_back(c);
    }
  }
  std::vector<std::pair<int64_t, int64_t>> steps;  // STEP_TIME ranges, ns
  std::vector<int32_t> step_ids;
  if (db.has_table("STEP_TIME")) {
    Statement s(db, "SELECT id, startNs, endNs FROM STEP_TIME ORDER BY startNs");
    while (s.step(db)) {
      step_ids.push_back(static_cast<int32_t>(std::clamp<int64_t>(s.integer(0), -1, 2'000'000'000)));
      steps.emplace_back(s.integer(1), s.integer(2));
    }
  }
  const bool compute = db.has_table("COMPUTE_TASK_INFO");
  const std::string sql =
      compute ? "SELECT TASK.startNs, TASK.endNs, TASK.streamId, TASK.taskId, TASK.taskType, TASK.connectionId, c.name, c.opType, "
                "c.taskType, c.inputShapes FROM TASK LEFT JOIN COMPUTE_TASK_INFO c ON c.globalTaskId = TASK.globalTaskId "
                "ORDER BY TASK.startNs"
              : "SELECT startNs, endNs, streamId, taskId, taskType, connectionId FROM TASK ORDER BY startNs";
  Statement s(db, sql);
  size_t step = 0;
  while (s.step(db)) {
    ProfileTask t;
    const int64_t start = s.integer(0), end = s.integer(1);
    if (end < start) throw InputError(fmt::format("{}: TASK: a task ends ({}) before it starts ({})", path, end, start));
    t.start_us = ctx.origin.relative_us(start);
    t.duration_us = static_cast<double>(end - start) / 1000.0;
    t.stream_id = s.null(2) ? -1 : s.integer(2);
    t.task_id = s.null(3) ? -1 : s.integer(3);
    t.task_type = str(s, 4);
    if (compute && !s.null(6)) {
      t.name = str(s, 6);
      t.op_type = str(s, 7);
      if (const std::string_view core = str(s, 8); !core.empty()) t.task_type = core;
      t.input_shapes = str(s, 9);
    } else if (auto it = collectives.find(s.integer(5)); it != collectives.end()) {
      t.name = it->second;
    }
    if (t.name.empty()) t.name = t.task_type;
    while (step < steps.size() && steps[step].second < start) ++step;
    if (step < steps.size() && steps[step].first <= start) t.step_id = step_ids[step];
    ctx.add(t, path);
  }
}

}  // namespace pt
