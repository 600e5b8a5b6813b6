// kernel_details.csv (torch_npu) and op_summary_*.csv (msprof): compute and communication tasks,
// never CMO or events. Accepts Block Dim / Block Num, a tab after the start time, N/A fields, quoted
// shapes with commas, an optional Step Id column; and prefetch-tuner's --timeline-csv (the same
// names plus Layer, Site, Prefetch Bytes, with CMO and event rows).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "profile/readers/fields.h"
#include "profile/readers/readers.h"

namespace pt {

namespace {

struct Columns {
  size_t name = 0, core = 0, start = 0, dur = 0;
  std::optional<size_t> type, stream, task, step, shapes, layer, site, bytes;
  bool ours = false;
};

Columns columns_of(const CsvHeader& h) {
  Columns c;
  c.name = h.require_column({"Name", "Op Name"});
  c.core = h.require_column({"Accelerator Core", "Task Type"});
  c.start = h.require_column({"Start Time(us)", "Task Start Time(us)"});
  c.dur = h.require_column({"Duration(us)", "Task Duration(us)"});
  c.type = h.first_of({"Type", "OP Type"});
  c.stream = h.first_of({"Stream ID", "Stream Id"});
  c.task = h.first_of({"Task ID", "Task Id"});
  c.step = h.first_of({"Step Id", "Step ID"});
  c.shapes = h.first_of({"Input Shapes"});
  c.bytes = h.column("Prefetch Bytes");
  c.ours = c.bytes.has_value();
  if (c.ours) {
    c.layer = h.column("Layer");
    c.site = h.column("Site");
  }
  return c;
}

// One row as a task; strings interned only when `intern` (the join interns only what it keeps).
ProfileTask task_of(const CsvHeader& h, const Columns& c, const CsvRecord& r, ReadContext& ctx, std::string& scratch) {
  StringPool& pool = *ctx.profile.strings;
  ProfileTask t;
  t.name = pool.intern(fields::field(r, c.name));
  std::string_view type = fields::field(r, c.type);
  if (!fields::is_na(type)) t.op_type = pool.intern(type);
  t.task_type = pool.intern(fields::field(r, c.core));
  if (c.ours && t.task_type == "EVENT") t.task_type = t.op_type;  // EVENT_RECORD / EVENT_WAIT, as in the trace
  t.start_us = fields::timestamp(h, r, c.start, ctx.origin);
  t.duration_us = fields::duration(h, r, c.dur);
  t.stream_id = fields::integer(h, r, c.stream);
  t.task_id = fields::integer(h, r, c.task);
  t.step_id = fields::small_integer(h, r, c.step);
  if (c.shapes) {
    const std::string_view s = fields::unquote_shapes(fields::field(r, c.shapes), scratch);
    if (!s.empty()) t.input_shapes = pool.intern(s);
  }
  if (c.ours) {
    t.layer = fields::small_integer(h, r, c.layer);
    const std::string_view site = fields::field(r, c.site);
    if (!site.empty()) t.site = pool.intern(site);
    if (c.bytes && *c.bytes < r.fields.size() && !fields::is_na(r.fields[*c.bytes])) t.prefetch_bytes = h.number(r, *c.bytes);
  }
  return t;
}

template <typename Stream>
void read_rows(const std::string& source, ReadContext& ctx, Stream&& stream) {
  Columns c;
  CsvHeader header;
  std::string scratch;
  stream([&](const CsvHeader& h) {
    header = h;
    c = columns_of(h);
    if (c.ours) ctx.profile.from_prefetch_tuner = true;
  },
         [&](const CsvRecord& r) { ctx.add(task_of(header, c, r, ctx, scratch), source); });
}

// MatMul, Matmul, BatchMatMul, GroupedMatmul, QuantBatchMatmul, Conv2D ...: cube work. An aclnn
// kernel name is aclnn<Api>_<Impl>_<Kernel>, and a helper kernel an op launches is <Op>_<Kernel>:
// only the kernel part counts, since aclnnMm_MatMulCommon_MemSet and Conv2DBackpropFilter6_MemSet
// are MemSets (AI_VECTOR_CORE in kernel_details), not a MatMul or a convolution. A last part
// without letters is a sequence number ("BatchMatMul_3").
std::string_view kernel_part(std::string_view name) {
  const size_t last = name.rfind('_');
  if (last == std::string_view::npos || last + 1 >= name.size()) return name;
  if (name.starts_with("aclnn") && name.find('_') == last) return name;
  const std::string_view part = name.substr(last + 1);
  const bool letters = std::any_of(part.begin(), part.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  return letters ? part : name;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto lower = [](char ch) { return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch; };
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

// The core type of a task an old trace calls "Other", from its name: matmuls and convolutions run
// on the cube, memory copies on neither core, the rest on the vector core.
std::string_view type_by_name(std::string_view name) {
  const std::string_view k = kernel_part(name);
  if (contains_ci(k, "matmul") || contains_ci(k, "conv")) return "AI_CORE";
  if (contains_ci(name, "memcpy")) return "MEMCPY_ASYNC";
  return "AI_VECTOR_CORE";
}

// Trace tasks that take a kernel_details row: typed "Other" or not at all, or compute and
// communication tasks lacking an op type. CMO, EVENT_* and other runtime tasks never have a row:
// a task id reused on another stream must not give them an op type.
bool joinable(const ProfileTask& t) {
  const bool untyped = t.task_type == "Other" || t.task_type.empty();
  return untyped || (t.op_type.empty() && (t.is_compute() || t.is_communication()));
}

// Joins rows onto tasks as they stream past: for each task, the row with its name (if any) and
// the nearest start within 1 us.
class Joiner {
 public:
  explicit Joiner(std::vector<ProfileTask>& tasks) : tasks_(tasks) {
    for (size_t i = 0; i < tasks.size(); ++i) {
      const ProfileTask& t = tasks[i];
      if (t.task_type == "Other") ++stats_.other;
      if (t.task_id >= 0 && joinable(t)) index_.push_back({t.task_id, t.start_us, static_cast<uint32_t>(i)});
    }
    // (task id, start) in one compact array: the search per row stays in a few cache lines
    // instead of visiting 128-byte tasks.
    std::sort(index_.begin(), index_.end(), [](const Key& a, const Key& b) {
      if (a.task_id != b.task_id) return a.task_id < b.task_id;
      return a.start_us != b.start_us ? a.start_us < b.start_us : a.task < b.task;
    });
    best_gap_.assign(index_.size(), std::numeric_limits<float>::infinity());
    state_.assign(index_.size(), 0);
    for (size_t k = 0; k < index_.size(); ++k) {
      const ProfileTask& t = tasks_[index_[k].task];
      uint8_t s = 0;
      if (t.task_type == "Other" || t.task_type.empty()) s |= kUntyped;
      if (t.op_type.empty()) s |= kNoOpType;
      if (t.input_shapes.empty()) s |= kNoShapes;
      if (t.step_id < 0) s |= kNoStep;
      state_[k] = s;
    }
  }

  void offer(const ProfileTask& row) {
    if (row.task_id < 0 || index_.empty()) return;
    constexpr double kToleranceUs = 1.0 + 1e-6;
    const double from = row.start_us - kToleranceUs;
    auto lo = std::lower_bound(index_.begin(), index_.end(), row.task_id, [&](const Key& k, int64_t id) {
      return k.task_id != id ? k.task_id < id : k.start_us < from;
    });
    for (; lo != index_.end(); ++lo) {
      if (lo->task_id != row.task_id || lo->start_us > row.start_us + kToleranceUs) break;
      ProfileTask& t = tasks_[lo->task];
      const size_t k = static_cast<size_t>(lo - index_.begin());
      const bool same_name = t.name == row.name;
      const auto gap = static_cast<float>(std::abs(t.start_us - row.start_us));
      const bool had = std::isfinite(best_gap_[k]);
      const bool had_same = state_[k] & kSameName;
      if (had && (had_same && !same_name)) continue;
      if (had && had_same == same_name && !(gap < best_gap_[k])) continue;
      best_gap_[k] = gap;
      state_[k] = static_cast<uint8_t>((state_[k] & ~kSameName) | (same_name ? kSameName : 0));
      if (state_[k] & kUntyped) t.task_type = row.task_type;
      if (state_[k] & kNoOpType) t.op_type = row.op_type;
      if (state_[k] & kNoShapes) t.input_shapes = row.input_shapes;
      if (state_[k] & kNoStep) t.step_id = row.step_id;
    }
  }

  JoinStats finish() {
    for (size_t k = 0; k < index_.size(); ++k) {
      if (std::isfinite(best_gap_[k])) ++stats_.matched;
    }
    // "Other" tasks no row typed: by name.
    for (ProfileTask& t : tasks_) {
      if (t.task_type == "Other") {
        t.task_type = type_by_name(t.name);
        ++stats_.other_by_name;
      }
    }
    return stats_;
  }

 private:
  static constexpr uint8_t kUntyped = 1, kNoOpType = 2, kNoShapes = 4, kNoStep = 8, kSameName = 16;
  std::vector<ProfileTask>& tasks_;
  struct Key {
    int64_t task_id;
    double start_us;
    uint32_t task;  // index into tasks_
  };
  std::vector<Key> index_;  // joinable tasks by (task id, start)
  std::vector<float> best_gap_;
  std::vector<uint8_t> state_;
  JoinStats stats_;
};

template <typename Stream>
JoinStats join_rows(ReadContext& ctx, Stream&& stream) {
  Joiner joiner(ctx.tasks);
  Columns c;
  CsvHeader header;
  std::string scratch;
  // The HCCL rows are the collectives unless the trace's communication lanes (which name their
  // group) gave them.
  const bool collectives = ctx.profile.collectives.empty();
  stream([&](const CsvHeader& h) {
    header = h;
    c = columns_of(h);
  },
         [&](const CsvRecord& r) {
           const ProfileTask t = task_of(header, c, r, ctx, scratch);
           if (collectives && t.is_communication() && t.name.starts_with("hcom_")) ctx.profile.collectives.push_back(t);
           joiner.offer(t);
         });
  return joiner.finish();
}

}  // namespace

void read_kernel_csv_path(const std::string& path, ReadContext& ctx) {
  read_rows(path, ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_file(path, on_header, on_row); });
}

void read_kernel_csv_string(std::string_view text, const std::string& source, ReadContext& ctx) {
  read_rows(source, ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_text(text, source, on_header, on_row); });
}

JoinStats join_kernel_csv_path(const std::string& path, ReadContext& ctx) {
  return join_rows(ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_file(path, on_header, on_row); });
}

JoinStats join_kernel_csv_string(std::string_view text, const std::string& source, ReadContext& ctx) {
  return join_rows(ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_text(text, source, on_header, on_row); });
}

JoinStats join_kernel_tasks(std::vector<ProfileTask>& tasks, const std::vector<ProfileTask>& kernel_tasks) {
  Joiner joiner(tasks);
  for (const auto& k : kernel_tasks) joiner.offer(k);
  return joiner.finish();
}

}  // namespace pt
