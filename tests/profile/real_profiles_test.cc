// The readers on real public profiler output (msprof-analyze's test data, kept outside this
// repository in ../shared/real-profiles). Skipped when that directory is absent.
//
// Every expected number below was computed independently with Python's csv and json modules,
// not with this code:
//
//   import csv, json, collections
//   rows = list(csv.DictReader(open(f, newline='', encoding='utf-8-sig')))
//   collections.Counter(r['Accelerator Core'] for r in rows)      # per core type
//   collections.Counter(r['Stream ID'] for r in rows)             # per stream ('N/A' -> -1)
//   sum(float(r['Duration(us)']) for r in rows)
//
//   d = json.load(open('msprof-analyze_timeline_advice_trace_view.json'))
//   hw = {e['pid'] for e in d if e.get('ph') == 'M' and e.get('name') == 'process_name'
//         and e['args']['name'] == 'Ascend Hardware'}
//   xs = [e for e in d if e.get('ph') == 'X' and e['pid'] in hw]
//   collections.Counter(e['args']['Task Type'] for e in xs)
//   # "Other" typed by name: the last '_' part of aclnn<Api>_<Impl>_<Kernel> names, 'matmul' in
//   # it (case-insensitive) -> AI_CORE, else AI_VECTOR_CORE
#include <filesystem>
#include <map>
#include <numeric>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "profile/profile_readers.h"
#include "test_support.h"
#include "util/file_io.h"

namespace pt {
namespace {

// fmt, not operator+ on a literal: gcc 12 warns there (-Warray-bounds, a false positive).
std::string real(const std::string& name) { return fmt::format("{}/../shared/real-profiles/{}", PT_SOURCE_DIR, name); }

#define REQUIRE_REAL_PROFILE(name)                                                                             \
  if (!std::filesystem::exists(real(name))) {                                                                 \
    GTEST_SKIP() << "real profile " << real(name) << " not present (the shared/real-profiles directory holds " \
                 << "msprof-analyze's public test data; absent outside the development checkout)";            \
  }

template <typename Tasks, typename Key>
std::map<Key, int> count(const Tasks& tasks, Key (*key)(const ProfileTask&)) {
  std::map<Key, int> c;
  for (const auto& t : tasks) ++c[key(t)];
  return c;
}
std::string type_of(const ProfileTask& t) { return std::string(t.task_type); }
int64_t stream_of(const ProfileTask& t) { return t.stream_id; }
int64_t step_of(const ProfileTask& t) { return t.step_id; }

double total_duration(const auto& tasks) {
  return std::accumulate(tasks.begin(), tasks.end(), 0.0,
                         [](double s, const ProfileTask& t) { return s + t.duration_us; });
}

bool sorted_by_start(const auto& tasks) {
  return std::is_sorted(tasks.begin(), tasks.end(),
                        [](const ProfileTask& a, const ProfileTask& b) { return a.start_us < b.start_us; });
}

// msprof-analyze test/ut/advisor/advisor_backend/compute_advice/kernel_details.csv: the older
// header (Block Dim, no OP State), HCCL rows with N/A ids. The reference's counts hold for it.
TEST(RealProfileKernelDetails, ComputeAdviceKernelDetails) {
  const std::string name = "msprof-analyze_compute_advice_kernel_details.csv";
  REQUIRE_REAL_PROFILE(name);
  const Profile p = load_profile(real(name));
  ASSERT_EQ(p.tasks.size(), 591u);
  EXPECT_EQ(count(p.tasks, type_of), (std::map<std::string, int>{{"AI_VECTOR_CORE", 520},
                                                                  {"MIX_AIV", 25},
                                                                  {"HCCL", 19},
                                                                  {"AI_CORE", 13},
                                                                  {"AI_CPU", 7},
                                                                  {"DSA_SQE", 7}}));
  EXPECT_EQ(count(p.tasks, stream_of), (std::map<int64_t, int>{{16, 558}, {17, 14}, {-1, 19}}));
  EXPECT_EQ(count(p.tasks, step_of), (std::map<int64_t, int>{{1, 591}}));
  EXPECT_NEAR(total_duration(p.tasks), 396807.040, 1e-3);
  EXPECT_TRUE(sorted_by_start(p.tasks));
  EXPECT_EQ(p.tasks.front().name, "ZerosLike46");
  EXPECT_EQ(p.tasks.front().input_shapes, "544404480");
  EXPECT_FALSE(p.has_cmo());
  ASSERT_EQ(p.notes.size(), 1u);  // kernel_details alone cannot show CMO
  size_t with_comma = 0;
  for (const auto& t : p.tasks) {
    EXPECT_EQ(t.input_shapes.find('"'), std::string::npos) << t.input_shapes;
    if (t.input_shapes.find(',') != std::string::npos) ++with_comma;
  }
  EXPECT_EQ(with_comma, 156u);
}

// msprof-analyze test/ut/advisor/compute_advice/data/kernel_details.csv: the newer PipeUtilization
// header (OP State, HF32 Eligible), a tab inside every start time, rows not in start order.
TEST(RealProfileKernelDetails, ComputeAdviceDataKernelDetails) {
  const std::string name = "msprof-analyze_compute_advice_data_kernel_details.csv";
  REQUIRE_REAL_PROFILE(name);
  const auto tasks = read_kernel_csv(read_text_file(real(name)), name);
  ASSERT_EQ(tasks.size(), 29u);
  EXPECT_EQ(count(tasks, type_of), (std::map<std::string, int>{{"AI_CORE", 12}, {"MIX_AIC", 9}, {"AI_VECTOR_CORE", 8}}));
  EXPECT_EQ(count(tasks, stream_of), (std::map<int64_t, int>{{2, 29}}));
  EXPECT_EQ(count(tasks, step_of), (std::map<int64_t, int>{{19, 29}}));
  EXPECT_NEAR(total_duration(tasks), 10061.159, 1e-3);
  EXPECT_TRUE(sorted_by_start(tasks));
  // Smallest and largest start ("1736413971411629.128\t" .. "1736413974268747.953\t").
  EXPECT_NEAR(tasks.front().start_us, 411629.128, 1e-6);
  EXPECT_NEAR(tasks.back().start_us, 3268747.953, 1e-6);
  const ProfileTask* first_in_file = nullptr;
  for (const auto& t : tasks) {
    if (t.task_id == 61653) first_in_file = &t;
  }
  ASSERT_NE(first_in_file, nullptr);
  EXPECT_EQ(first_in_file->name, "aclnnMatmul_MatMulCommon_MatMulV2");
  EXPECT_EQ(first_in_file->input_shapes, "81920,4096;8192,512");
  EXPECT_DOUBLE_EQ(first_in_file->duration_us, 185.504);
}

// msprof-analyze test/ut/advisor/timeline_advice/trace_view.json: a 2024-01 torch_npu trace,
// 3670 events; Ascend Hardware is pid 800 with the single stream 3; AI-core kernels are typed
// "Other" (274 of 276) and ts is a string.
TEST(RealProfileTrace, TimelineAdviceTraceView) {
  const std::string name = "msprof-analyze_timeline_advice_trace_view.json";
  REQUIRE_REAL_PROFILE(name);
  const auto raw = read_trace_json_file(real(name));
  ASSERT_EQ(raw.size(), 276u);
  EXPECT_EQ(count(raw, type_of), (std::map<std::string, int>{{"Other", 274}, {"AI_CPU", 2}}));
  EXPECT_EQ(count(raw, stream_of), (std::map<int64_t, int>{{3, 276}}));
  EXPECT_NEAR(total_duration(raw), 1790.440624, 1e-5);
  EXPECT_EQ(raw.front().name, "aclnnInplaceZero_ZerosLikeAiCore_ZerosLike");
  EXPECT_EQ(raw.front().task_id, 279);
  EXPECT_NEAR(raw.front().start_us, 422904.204, 1e-6);
  EXPECT_EQ(raw.back().name, "aclnnDivs_RealDivAiCore_RealDiv");
  EXPECT_NEAR(raw.back().start_us, 434172.701, 1e-6);

  // Without its kernel_details (not published), "Other" is typed by name: the 9 matmuls and the
  // 5 convolutions (Conv2D1, Conv2D3, Conv2DBackpropInput5, Conv2DBackpropFilter6 twice) on the
  // cube, the 2 MEMCPY_ASYNC on neither core, the rest (Conv2DBackpropFilter6_MemSet among them)
  // on the vector core.
  const Profile p = load_profile(real(name));
  EXPECT_EQ(count(p.tasks, type_of), (std::map<std::string, int>{{"AI_VECTOR_CORE", 258}, {"AI_CORE", 14}, {"AI_CPU", 2},
                                                                  {"MEMCPY_ASYNC", 2}}));
  for (const auto& t : p.tasks) {
    if (t.name == "MEMCPY_ASYNC") {
      EXPECT_FALSE(t.is_compute()) << "a memory copy is neither cube nor vector work";
    }
    if (t.name == "Conv2DBackpropFilter6_MemSet") {
      EXPECT_EQ(t.task_type, "AI_VECTOR_CORE");
    }
  }
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("274 tasks have Task Type \"Other\""), std::string::npos) << p.notes[0];
  EXPECT_FALSE(p.has_cmo());  // the reference found no public profile with a CMO task
}

}  // namespace
}  // namespace pt
