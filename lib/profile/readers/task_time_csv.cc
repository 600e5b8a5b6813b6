// task_time*.csv (msprof): every task of the device, CMO and events included; kernel_name is N/A
// for the tasks that are no kernel.
#include "profile/readers/fields.h"
#include "profile/readers/readers.h"

namespace pt {

namespace {

template <typename Stream>
void read_rows(const std::string& source, ReadContext& ctx, Stream&& stream) {
  size_t c_name = 0, c_type = 0, c_stream = 0, c_task = 0, c_start = 0;
  std::optional<size_t> c_time, c_stop;
  CsvHeader header;
  StringPool& pool = *ctx.profile.strings;
  stream(
      [&](const CsvHeader& h) {
        header = h;
        c_name = h.require_column({"kernel_name"});
        c_type = h.require_column({"kernel_type"});
        c_stream = h.require_column({"stream_id"});
        c_task = h.require_column({"task_id"});
        c_start = h.require_column({"task_start(us)"});
        c_time = h.column("task_time(us)");
        c_stop = h.column("task_stop(us)");
        if (!c_time && !c_stop) h.require_column({"task_time(us)", "task_stop(us)"});  // throws, naming both
      },
      [&](const CsvRecord& r) {
        ProfileTask t;
        t.task_type = pool.intern(fields::field(r, c_type));
        const std::string_view name = fields::field(r, c_name);
        t.name = fields::is_na(name) ? t.task_type : pool.intern(name);  // CMO, EVENT_RECORD ... have no kernel name
        t.start_us = fields::timestamp(header, r, c_start, ctx.origin);
        t.duration_us = c_time ? fields::duration(header, r, *c_time) : fields::timestamp(header, r, *c_stop, ctx.origin) - t.start_us;
        if (t.duration_us < 0) {
          throw InputError(fmt::format("{}: line {}: task_stop(us) is before task_start(us)", source, r.line));
        }
        t.stream_id = fields::integer(header, r, c_stream);
        t.task_id = fields::integer(header, r, c_task);
        ctx.add(t, source);
      });
}

}  // namespace

void read_task_time_csv_path(const std::string& path, ReadContext& ctx) {
  read_rows(path, ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_file(path, on_header, on_row); });
}

void read_task_time_csv_string(std::string_view text, const std::string& source, ReadContext& ctx) {
  read_rows(source, ctx, [&](auto&& on_header, auto&& on_row) { stream_csv_text(text, source, on_header, on_row); });
}

}  // namespace pt
