// probe.cu: NVIDIA-GPU analog of vllm-ascend's weight prefetch into L2.
//
// A side stream prefetches the first r x W bytes of a GEMM weight into L2 with Hopper's bulk
// prefetch (cp.async.bulk.prefetch.L2.global, issued by one thread in each of 1, 4 or 16 blocks,
// so the SMs stay free the way an Ascend CMO task leaves the cube/vector cores free; one block's
// TMA moves ~250 GB/s) while a vector op runs on the compute stream; the compute stream then joins the side stream and runs the GEMM (cuBLASLt).
// Every section writes one CSV; README.md in this folder describes them. Built only by
// run_probe.sh, never by the project's CMake.
//
// usage: probe OUTDIR [--quick] [--reps N] [--chunk BYTES] [--pf-blocks 1,4,16] [--deadline-s S]
//                     [--only a,b,c]

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#define CK(x)                                                                                  \
  do {                                                                                         \
    cudaError_t e_ = (x);                                                                      \
    if (e_ != cudaSuccess) {                                                                   \
      fprintf(stderr, "CUDA error %s at %s:%d: %s\n", #x, __FILE__, __LINE__,                  \
              cudaGetErrorString(e_));                                                         \
      exit(2);                                                                                 \
    }                                                                                          \
  } while (0)
#define CKL(x)                                                                                 \
  do {                                                                                         \
    cublasStatus_t s_ = (x);                                                                   \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                         \
      fprintf(stderr, "cuBLASLt error %s at %s:%d: %d\n", #x, __FILE__, __LINE__, (int)s_);    \
      exit(2);                                                                                 \
    }                                                                                          \
  } while (0)

using bf16 = __nv_bfloat16;
static constexpr size_t kMiB = 1024ull * 1024ull;
static constexpr unsigned kMagic = 0x9e3779b9u;  // never produced in practice; keeps loads alive

// ------------------------------------------------------------------------------------------
// kernels
// ------------------------------------------------------------------------------------------

__device__ __forceinline__ uint64_t global_timer_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void init_kernel(bf16* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    p[i] = __float2bfloat16(((h & 0xffffu) / 65536.0f - 0.5f) * 0.25f);  // never all zeros
  }
}

__global__ void empty_kernel() {}

// Streaming read through L2 (ld.global.cg: caches in L2, not L1). Used to flush L2 (a buffer of
// several times L2), to pre-load the first f of a weight, and as the probe read.
__global__ void read_kernel(const uint4* __restrict__ p, size_t n16, unsigned* sink) {
  unsigned acc = 0;
  const size_t stride = (size_t)gridDim.x * blockDim.x;
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n16; i += 4 * stride) {  // four loads in flight per thread
    uint4 a = __ldcg(p + i), b = __ldcg(p + i + stride), c = __ldcg(p + i + 2 * stride),
          d = __ldcg(p + i + 3 * stride);
    acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^
           d.z ^ d.w;
  }
  for (; i < n16; i += stride) {
    uint4 a = __ldcg(p + i);
    acc ^= a.x ^ a.y ^ a.z ^ a.w;
  }
  if (acc == kMagic) sink[0] = acc;
}

// Busy-waits d_ns on one thread: a delay on the stream that moves no bytes.
__global__ void spin_kernel(uint64_t d_ns) {
  uint64_t t0 = global_timer_ns();
  while (global_timer_ns() - t0 < d_ns) {
  }
}

// The prefetch: ONE thread per block issues cp.async.bulk.prefetch.L2.global over its share of
// [base, base+bytes) in chunks of chunk_bytes (PTX: size a multiple of 16, address 16-byte
// aligned, size a u32). The bulk prefetch has no completion mechanism, so by itself the kernel
// may end while the bytes are still in flight ("ff", fire-and-forget). With wait_for_bytes the
// same thread then issues a 16-byte bulk copy (global -> shared, mbarrier complete_tx) of the
// last 16 B of its share behind the prefetches, through the same TMA unit, and waits on the
// mbarrier: the kernel ends when that line is in, i.e. (TMA queue in order, HBM roughly in order)
// when the prefetched bytes are in L2, as the end of a CMO task means on Ascend. The arrival
// probe (section arrival) checks this against reads of the region.
__global__ void prefetch_l2_kernel(const char* base, uint64_t bytes, uint32_t chunk_bytes,
                                   int wait_for_bytes) {
  __shared__ alignas(16) unsigned char landing[16];
  __shared__ alignas(8) uint64_t bar;
  const uint64_t units = bytes / 16;
  const uint64_t per_block = (units + gridDim.x - 1) / gridDim.x;
  const uint64_t lo = (uint64_t)blockIdx.x * per_block * 16;
  const uint64_t hi = bytes < lo + per_block * 16 ? bytes : lo + per_block * 16;
  if (lo >= hi || threadIdx.x != 0) return;
  const uint32_t bar_addr = (uint32_t)__cvta_generic_to_shared(&bar);
  if (wait_for_bytes) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar_addr) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  for (uint64_t off = lo; off < hi; off += chunk_bytes) {
    uint32_t size = (uint32_t)(hi - off < chunk_bytes ? hi - off : chunk_bytes);
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(base + off), "r"(size)
                 : "memory");
  }
  if (!wait_for_bytes) return;
  const uint32_t dst = (uint32_t)__cvta_generic_to_shared(landing);
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], 16;" ::"r"(bar_addr)
               : "memory");
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 16, [%2];" ::
          "r"(dst),
      "l"(base + hi - 16), "r"(bar_addr)
      : "memory");
  uint32_t done = 0;
  while (!done) {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0;\n"
        " selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar_addr)
        : "memory");
  }
}

// Reads the SM clock against the global timer for ~5 us: the clock the last variant ran at.
__global__ void clock_kernel(uint64_t* out) {
  const uint64_t t0 = global_timer_ns();
  const long long c0 = clock64();
  uint64_t t;
  do {
    t = global_timer_ns();
  } while (t - t0 < 5000);
  out[0] = (uint64_t)(clock64() - c0);
  out[1] = t - t0;
}

// Memory-bound RMSNorm over rows of 4096 bf16: a block of 256 threads takes two rows at a time
// (four 16-byte loads in flight per thread); launched 3 blocks per SM so that a prefetch block
// still fits beside it on every SM. Streaming loads and stores (.cs = evict-first) so that its bytes do
// not push the prefetched weight out of L2.
__global__ void __launch_bounds__(256, 4) vec_mem_kernel(const uint4* __restrict__ in,
                                                      uint4* __restrict__ out, int rows) {
  constexpr int kVecPerRow = 4096 / 8;  // uint4 holds 8 bf16; 2 per thread per row
  __shared__ float partial[2][8];
  const int tid = threadIdx.x;
  for (int row0 = blockIdx.x * 2; row0 < rows; row0 += gridDim.x * 2) {
    uint4 v[2][2];
    float ss[2] = {0.f, 0.f};
#pragma unroll
    for (int r = 0; r < 2; ++r)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int row = row0 + r < rows ? row0 + r : row0;  // odd tail: redo row0, harmless
        v[r][j] = __ldcs(in + (size_t)row * kVecPerRow + tid + 256 * j);
      }
#pragma unroll
    for (int r = 0; r < 2; ++r)
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const bf16* h = reinterpret_cast<const bf16*>(&v[r][j]);
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          float f = __bfloat162float(h[e]);
          ss[r] += f * f;
        }
      }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) ss[r] += __shfl_xor_sync(0xffffffffu, ss[r], o);
      if ((tid & 31) == 0) partial[r][tid >> 5] = ss[r];
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float tot = 0.f;
#pragma unroll
      for (int w = 0; w < 8; ++w) tot += partial[r][w];
      const float scale = rsqrtf(tot / 4096.f + 1e-6f);
      const int row = row0 + r < rows ? row0 + r : row0;
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        bf16* h = reinterpret_cast<bf16*>(&v[r][j]);
#pragma unroll
        for (int e = 0; e < 8; ++e) h[e] = __float2bfloat16(__bfloat162float(h[e]) * scale);
        __stcs(out + (size_t)row * kVecPerRow + tid + 256 * j, v[r][j]);
      }
    }
    __syncthreads();
  }
}

// Latency-bound RMSNorm on a decode-sized activation (one block of 256 threads a token row),
// repeated `iters` times in registers: its length is set by iters while its footprint stays a
// few hundred KiB, like quantize / RMSNorm / SwiGLU on decode activations.
template <int kMaxPerThread>
__global__ void vec_lat_kernel(const bf16* __restrict__ in, bf16* __restrict__ out, int width,
                               int iters) {
  __shared__ float partial[8];
  const int row = blockIdx.x, tid = threadIdx.x;
  float v[kMaxPerThread];
#pragma unroll
  for (int j = 0; j < kMaxPerThread; ++j) {
    int idx = j * 256 + tid;
    v[j] = idx < width ? __bfloat162float(in[(size_t)row * width + idx]) : 0.f;
  }
  for (int it = 0; it < iters; ++it) {
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < kMaxPerThread; ++j) ss += v[j] * v[j];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((tid & 31) == 0) partial[tid >> 5] = ss;
    __syncthreads();
    float tot = 0.f;
#pragma unroll
    for (int w = 0; w < 8; ++w) tot += partial[w];
    __syncthreads();
    const float scale = rsqrtf(tot / width + 1e-6f);
#pragma unroll
    for (int j = 0; j < kMaxPerThread; ++j) v[j] = v[j] * scale + 1e-3f;
  }
#pragma unroll
  for (int j = 0; j < kMaxPerThread; ++j) {
    int idx = j * 256 + tid;
    if (idx < width) out[(size_t)row * width + idx] = __float2bfloat16(v[j]);
  }
}

// ------------------------------------------------------------------------------------------
// host context
// ------------------------------------------------------------------------------------------

struct Ctx {
  cudaDeviceProp prop{};
  int sms = 0;
  size_t l2_bytes = 0;
  cudaStream_t s0{}, s1{};  // compute stream, prefetch stream
  cublasLtHandle_t lt{};
  void* ws = nullptr;
  size_t ws_bytes = 32 * kMiB;
  char* flush_buf = nullptr;
  size_t flush_bytes = 0;
  unsigned* sink = nullptr;
  char* wpool = nullptr;  // weights of the sweeps: all start at wpool (L2 is flushed between reps)
  size_t wpool_bytes = 0;
  bf16 *x = nullptr, *y = nullptr;            // GEMM activations / output
  bf16 *lat_in = nullptr, *lat_out = nullptr;  // vec_lat buffers (128 x 8192 bf16)
  char *mem_in = nullptr, *mem_out = nullptr;  // vec_mem buffers
  size_t mem_bytes = 256 * kMiB;
  std::vector<cudaEvent_t> events;        // timing events
  cudaEvent_t fj[16]{};                   // fork/join events (timing disabled)
  cudaEvent_t scratch[4]{};
  int reps = 51;
  int warm = 2;
  uint32_t chunk_bytes = 65536;
  std::vector<int> pf_blocks = {1, 4, 16};  // issuing blocks of the prefetch in the combined rows
  uint64_t* clk = nullptr;               // clock_kernel output, 2 words a repetition
  double last_sm_MHz = 0;                // median SM clock over the last measure()
  bool quick = false;
  double deadline_s = 560;
  std::chrono::steady_clock::time_point t_start;
  std::string out_dir;
} g;

static double elapsed_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - g.t_start).count();
}
static bool past_deadline() { return elapsed_s() > g.deadline_s; }

static void check_launch() { CK(cudaGetLastError()); }

static void flush_l2(cudaStream_t s) {
  read_kernel<<<g.sms * 4, 512, 0, s>>>((const uint4*)g.flush_buf, g.flush_bytes / 16, g.sink);
  check_launch();
}
static void read_region(const void* p, size_t bytes, cudaStream_t s) {
  if (bytes < 16) return;
  read_kernel<<<g.sms * 4, 512, 0, s>>>((const uint4*)p, bytes / 16, g.sink);
  check_launch();
}
static void prefetch(const void* p, size_t bytes, bool wait_for_bytes, cudaStream_t s,
                     int blocks = 1, uint32_t chunk = 0) {
  // 512 threads of which only thread 0 works: the block's size keeps the blocks of one prefetch
  // on distinct SMs (distinct TMA units) even when a vector op fills every SM partly.
  prefetch_l2_kernel<<<blocks, 512, 0, s>>>((const char*)p, bytes & ~size_t(15),
                                           chunk ? chunk : g.chunk_bytes, wait_for_bytes ? 1 : 0);
  check_launch();
}
static void spin(double us, cudaStream_t s) {
  spin_kernel<<<1, 1, 0, s>>>((uint64_t)(us * 1000.0));
  check_launch();
}
static void empty(cudaStream_t s) {
  empty_kernel<<<1, 32, 0, s>>>();
  check_launch();
}
static void vec_mem(size_t bytes, cudaStream_t s, size_t offset = 0) {
  int rows = (int)(bytes / 8192);
  if (rows < 1) rows = 1;
  vec_mem_kernel<<<g.sms * 3, 256, 0, s>>>((const uint4*)(g.mem_in + offset),
                                          (uint4*)(g.mem_out + offset), rows);
  check_launch();
}
static void vec_lat(int tokens, int width, int iters, cudaStream_t s) {
  if (width <= 2048)
    vec_lat_kernel<8><<<tokens, 256, 0, s>>>(g.lat_in, g.lat_out, width, iters);
  else
    vec_lat_kernel<32><<<tokens, 256, 0, s>>>(g.lat_in, g.lat_out, width, iters);
  check_launch();
}
// prefetch_preprocess: the side stream waits for the compute stream, then issues.
static void fork(cudaStream_t s0, cudaStream_t s1, int site) {
  CK(cudaEventRecord(g.fj[2 * site], s0));
  CK(cudaStreamWaitEvent(s1, g.fj[2 * site], 0));
}
// prefetch_postprocess: the compute stream waits for the side stream.
static void join(cudaStream_t s0, cudaStream_t s1, int site) {
  CK(cudaEventRecord(g.fj[2 * site + 1], s1));
  CK(cudaStreamWaitEvent(s0, g.fj[2 * site + 1], 0));
}

// ---------------------------------------------------------------------------------------------
// GEMM: y[M x N] = x[M x K] * W^T, W row-major N x K (bf16, fp32 accumulate), through cuBLASLt
// with the heuristic's first algorithm, fixed per shape.
// ---------------------------------------------------------------------------------------------
struct Gemm {
  int N = 0, K = 0, M = 0;
  cublasLtMatmulDesc_t op{};
  cublasLtMatrixLayout_t la{}, lb{}, lc{};
  cublasLtMatmulAlgo_t algo{};
  void init(int N_, int K_, int M_) {
    N = N_, K = K_, M = M_;
    CKL(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CKL(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    // column-major view: A = W as K x N (ld K), op(A) = N x K; B = x as K x M; D = N x M
    CKL(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, K, N, K));
    CKL(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, K, M, K));
    CKL(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, N, M, N));
    cublasLtMatmulPreference_t pref;
    CKL(cublasLtMatmulPreferenceCreate(&pref));
    CKL(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &g.ws_bytes, sizeof g.ws_bytes));
    cublasLtMatmulHeuristicResult_t res{};
    int found = 0;
    CKL(cublasLtMatmulAlgoGetHeuristic(g.lt, op, la, lb, lc, lc, pref, 1, &res, &found));
    if (found < 1) {
      fprintf(stderr, "no cuBLASLt algorithm for N=%d K=%d M=%d\n", N, K, M);
      exit(2);
    }
    algo = res.algo;
    CKL(cublasLtMatmulPreferenceDestroy(pref));
  }
  void run(const void* W, cudaStream_t s) const {
    const float alpha = 1.f, beta = 0.f;
    CKL(cublasLtMatmul(g.lt, op, &alpha, W, la, g.x, lb, &beta, g.y, lc, g.y, lc, &algo, g.ws,
                       g.ws_bytes, s));
  }
  size_t weight_bytes() const { return (size_t)N * K * sizeof(bf16); }
};

static Gemm& gemm_for(int N, int K, int M) {
  static std::map<std::tuple<int, int, int>, Gemm> cache;
  auto key = std::make_tuple(N, K, M);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Gemm& gm = cache[key];
  gm.init(N, K, M);
  return gm;
}

// ------------------------------------------------------------------------------------------
// timing harness: each repetition = L2 flush, optional untimed set-up, event, the work (a
// captured graph replay, or eager launches), event. Variants of one group are interleaved
// round-robin so that clock drift hits all of them alike.
// ------------------------------------------------------------------------------------------
using Body = std::function<void(cudaStream_t, cudaStream_t)>;
struct Variant {
  std::string label;
  Body body;
  std::function<void(cudaStream_t)> pre;  // untimed, after the flush
  bool eager = false;
  cudaGraphExec_t exec = nullptr;
};
struct Stats {
  double med = 0, p10 = 0, p90 = 0, mean = 0;
  int n = 0;
};
static Stats stats_of(std::vector<float> v) {
  Stats s;
  s.n = (int)v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto q = [&](double f) { return (double)v[(size_t)std::lround(f * (v.size() - 1))]; };
  s.med = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  s.p10 = q(0.1);
  s.p90 = q(0.9);
  double sum = 0;
  for (float x : v) sum += x;
  s.mean = sum / v.size();
  return s;
}

static void ensure_events(size_t n) {
  while (g.events.size() < n) {
    cudaEvent_t e;
    CK(cudaEventCreate(&e));
    g.events.push_back(e);
  }
}

static cudaGraphExec_t capture(const Body& body) {
  cudaGraph_t graph;
  CK(cudaStreamBeginCapture(g.s0, cudaStreamCaptureModeThreadLocal));
  body(g.s0, g.s1);
  CK(cudaStreamEndCapture(g.s0, &graph));
  cudaGraphExec_t exec;
  CK(cudaGraphInstantiate(&exec, graph, 0));
  CK(cudaGraphDestroy(graph));
  return exec;
}

static void record_clock(int n) {
  std::vector<uint64_t> h(2 * n);
  CK(cudaMemcpy(h.data(), g.clk, h.size() * sizeof(uint64_t), cudaMemcpyDeviceToHost));
  std::vector<float> mhz(n);
  for (int i = 0; i < n; ++i) mhz[i] = h[2 * i + 1] ? 1e3f * h[2 * i] / h[2 * i + 1] : 0.f;
  g.last_sm_MHz = stats_of(mhz).med;
}

static std::vector<Stats> measure(std::vector<Variant>& vs, int reps = -1) {
  if (reps < 0) reps = g.reps;
  const size_t V = vs.size();
  for (auto& v : vs)
    if (!v.eager) v.exec = capture(v.body);
  ensure_events(V * reps * 2);
  for (int rep = -g.warm; rep < reps; ++rep) {
    for (size_t i = 0; i < V; ++i) {
      const size_t vi = (i + (size_t)std::max(rep, 0)) % V;
      Variant& v = vs[vi];
      flush_l2(g.s0);
      if (v.pre) v.pre(g.s0);
      cudaEvent_t a = rep < 0 ? g.scratch[0] : g.events[(vi * reps + rep) * 2];
      cudaEvent_t b = rep < 0 ? g.scratch[1] : g.events[(vi * reps + rep) * 2 + 1];
      CK(cudaEventRecord(a, g.s0));
      if (v.eager)
        v.body(g.s0, g.s1);
      else
        CK(cudaGraphLaunch(v.exec, g.s0));
      CK(cudaEventRecord(b, g.s0));
    }
    if (rep >= 0 && rep < 1024) clock_kernel<<<1, 1, 0, g.s0>>>(g.clk + 2 * rep);
  }
  CK(cudaStreamSynchronize(g.s0));
  CK(cudaGetLastError());
  record_clock(std::min(reps, 1024));
  std::vector<Stats> out(V);
  for (size_t vi = 0; vi < V; ++vi) {
    std::vector<float> t(reps);
    for (int rep = 0; rep < reps; ++rep) {
      float ms;
      CK(cudaEventElapsedTime(&ms, g.events[(vi * reps + rep) * 2],
                              g.events[(vi * reps + rep) * 2 + 1]));
      t[rep] = ms * 1000.f;
    }
    out[vi] = stats_of(t);
    if (vs[vi].exec) CK(cudaGraphExecDestroy(vs[vi].exec));
    vs[vi].exec = nullptr;
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// CSV output
// ------------------------------------------------------------------------------------------
struct Csv {
  FILE* f = nullptr;
  Csv(const std::string& name, const char* header) {
    std::string path = g.out_dir + "/" + name;
    f = fopen(path.c_str(), "w");
    if (!f) {
      perror(path.c_str());
      exit(2);
    }
    fprintf(f, "%s\n", header);
    fflush(f);
  }
  ~Csv() {
    if (f) fclose(f);
  }
  void row(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
  }
};
#define STATS_FMT "%.3f,%.3f,%.3f,%.3f,%d"
#define STATS_ARGS(s) (s).med, (s).p10, (s).p90, (s).mean, (s).n

static void progress(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("[%7.1f s] ", elapsed_s());
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

static size_t round16(double bytes) { return (size_t)(bytes / 16.0) * 16; }
static int weight_rows_for(double frac_of_l2, int K) {
  int n = (int)std::lround(frac_of_l2 * g.l2_bytes / (K * 2.0) / 64.0) * 64;
  return std::max(n, 64);
}

// ------------------------------------------------------------------------------------------
// sections
// ------------------------------------------------------------------------------------------

static void section_meta() {
  int rt = 0, drv = 0;
  CK(cudaRuntimeGetVersion(&rt));
  CK(cudaDriverGetVersion(&drv));
  size_t lt_ver = cublasLtGetVersion();
  const char* date = getenv("PROBE_DATE");
  std::string pf_list;
  for (int b : g.pf_blocks) pf_list += (pf_list.empty() ? "" : ",") + std::to_string(b);
  std::string path = g.out_dir + "/meta.json";
  FILE* f = fopen(path.c_str(), "w");
  fprintf(f,
          "{\n  \"gpu_name\": \"%s\",\n  \"compute_capability\": \"%d.%d\",\n"
          "  \"sm_count\": %d,\n  \"l2_cache_bytes\": %zu,\n"
          "  \"persisting_l2_max_bytes\": %d,\n  \"global_memory_bytes\": %zu,\n"
          "  \"memory_bus_width_bits\": %d,\n  \"cuda_runtime_version\": %d,\n"
          "  \"cuda_driver_api_version\": %d,\n  \"cublaslt_version\": %zu,\n"
          "  \"date\": \"%s\",\n  \"reps\": %d,\n  \"warmup_rounds\": %d,\n"
          "  \"prefetch_chunk_bytes\": %u,\n  \"prefetch_blocks_combined\": \"%s\",\n"
          "  \"flush_bytes\": %zu,\n  \"quick\": %s\n}\n",
          g.prop.name, g.prop.major, g.prop.minor, g.sms, g.l2_bytes,
          g.prop.persistingL2CacheMaxSize, g.prop.totalGlobalMem, g.prop.memoryBusWidth, rt, drv,
          lt_ver, date ? date : "unknown", g.reps, g.warm, g.chunk_bytes, pf_list.c_str(), g.flush_bytes,
          g.quick ? "true" : "false");
  fclose(f);
  progress("meta: %s, %d SMs, L2 %zu bytes (%.1f MiB)", g.prop.name, g.sms, g.l2_bytes,
           g.l2_bytes / (double)kMiB);
}

// Spin the GPU for a while so that clocks are up before the first timed row.
static void warm_gpu() {
  Gemm& gm = gemm_for(8192, 4096, 128);
  const double t0 = elapsed_s();
  while (elapsed_s() - t0 < 0.5) {
    for (int i = 0; i < 100; ++i) gm.run(g.wpool, g.s0);
    for (int i = 0; i < 10; ++i) flush_l2(g.s0);
    CK(cudaStreamSynchronize(g.s0));
  }
}

// Peak rates: HBM read / copy, L2 re-read, the flush itself.
static void section_bandwidth() {
  Csv csv("bandwidth.csv", "test,bytes,median_us,p10_us,p90_us,mean_us,reps,GBps");
  const size_t big = 1024 * kMiB;  // 1 GiB >> L2: streams from HBM
  char* buf;
  CK(cudaMalloc(&buf, big));
  CK(cudaMemset(buf, 1, big));
  std::vector<Variant> vs;
  vs.push_back({"hbm_read_1GiB", [=](cudaStream_t s, cudaStream_t) { read_region(buf, big, s); }});
  vs.push_back({"hbm_copy_d2d_512MiB", [=](cudaStream_t s, cudaStream_t) {
                  CK(cudaMemcpyAsync(buf + big / 2, buf, big / 2, cudaMemcpyDeviceToDevice, s));
                }});
  vs.push_back({"flush", [=](cudaStream_t s, cudaStream_t) { flush_l2(s); }});
  std::vector<size_t> hot_sizes = {4 * kMiB, 16 * kMiB, 32 * kMiB};
  for (size_t b : hot_sizes) {
    Variant v{"l2_reread_" + std::to_string(b / kMiB) + "MiB",
              [=](cudaStream_t s, cudaStream_t) { read_region(buf, b, s); }};
    v.pre = [=](cudaStream_t s) { read_region(buf, b, s); };
    vs.push_back(v);
    vs.push_back({"hbm_read_cold_" + std::to_string(b / kMiB) + "MiB",
                  [=](cudaStream_t s, cudaStream_t) { read_region(buf, b, s); }});
  }
  auto st = measure(vs);
  std::vector<size_t> bytes = {big, big, g.flush_bytes};  // copy: count read + write
  for (size_t b : hot_sizes) bytes.push_back(b), bytes.push_back(b);
  for (size_t i = 0; i < vs.size(); ++i) {
    double moved = i == 1 ? (double)big : (double)bytes[i];  // d2d of big/2: reads+writes = big
    csv.row("%s,%zu," STATS_FMT ",%.1f", vs[i].label.c_str(), (size_t)moved, STATS_ARGS(st[i]),
            moved / (st[i].med * 1e3));
    progress("bandwidth %-22s %9.2f us  %7.1f GB/s", vs[i].label.c_str(), st[i].med,
             moved / (st[i].med * 1e3));
  }
  CK(cudaFree(buf));
}

struct VecCal {
  double lat_a_us = 2, lat_b_us = 0.2;  // vec_lat(32 tokens, 4096) ~ a + b * iters
  double mem_GBps = 3000;               // vec_mem bytes read per second (read + write = 2x)
  int lat_iters_for(double us) const {
    return std::max(1, (int)std::lround((us - lat_a_us) / lat_b_us));
  }
  size_t mem_bytes_for(double us) const {
    return std::min<size_t>(128 * kMiB, (size_t)(us * 1e-6 * mem_GBps * 1e9) / 8192 * 8192);
  }
} cal;

static void section_vec() {
  Csv csv("vec_alone.csv", "kind,width,tokens,iters,bytes_read,median_us,p10_us,p90_us,mean_us,reps");
  std::vector<int> tokens = {8, 16, 32, 72, 128};
  std::vector<int> iters = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  if (g.quick) tokens = {8, 72}, iters = {1, 16, 64};
  for (int t : tokens) {
    std::vector<Variant> vs;
    for (int it : iters)
      vs.push_back({"lat", [=](cudaStream_t s, cudaStream_t) { vec_lat(t, 4096, it, s); }});
    auto st = measure(vs);
    for (size_t i = 0; i < vs.size(); ++i)
      csv.row("lat,4096,%d,%d,%zu," STATS_FMT, t, iters[i], (size_t)t * 8192, STATS_ARGS(st[i]));
    if (t == 32 || (g.quick && t == 72)) {
      // least squares on iters >= 4 for the slope, intercept from the same line
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      int n = 0;
      for (size_t i = 0; i < iters.size(); ++i)
        if (iters[i] >= 4 || g.quick) {
          sx += iters[i], sy += st[i].med, sxx += (double)iters[i] * iters[i],
              sxy += iters[i] * st[i].med, ++n;
        }
      cal.lat_b_us = (n * sxy - sx * sy) / (n * sxx - sx * sx);
      cal.lat_a_us = (sy - cal.lat_b_us * sx) / n;
      progress("vec_lat calibration: %.2f us + %.4f us/iter (1 iter: %.2f us)", cal.lat_a_us,
               cal.lat_b_us, st[0].med);
    }
  }
  // widths used in the decoder layer
  {
    std::vector<int> widths = {1024, 1536, 4096};
    std::vector<Variant> vs;
    for (int w : widths)
      for (int t : {8, 32, 72, 128})
        vs.push_back({"lat", [=](cudaStream_t s, cudaStream_t) { vec_lat(t, w, 1, s); }});
    auto st = measure(vs);
    size_t i = 0;
    for (int w : widths)
      for (int t : {8, 32, 72, 128}) {
        csv.row("lat,%d,%d,1,%zu," STATS_FMT, w, t, (size_t)t * w * 2, STATS_ARGS(st[i]));
        ++i;
      }
  }
  std::vector<size_t> mbytes = {1 * kMiB, 2 * kMiB, 4 * kMiB, 8 * kMiB, 16 * kMiB, 32 * kMiB,
                                64 * kMiB, 128 * kMiB};
  if (g.quick) mbytes = {4 * kMiB, 32 * kMiB};
  std::vector<Variant> vs;
  for (size_t b : mbytes)
    vs.push_back({"mem", [=](cudaStream_t s, cudaStream_t) { vec_mem(b, s); }});
  auto st = measure(vs);
  for (size_t i = 0; i < vs.size(); ++i) {
    csv.row("mem,4096,0,1,%zu," STATS_FMT, mbytes[i], STATS_ARGS(st[i]));
    if (mbytes[i] == 32 * kMiB) cal.mem_GBps = mbytes[i] / (st[i].med * 1e3);
  }
  progress("vec_mem calibration: %.0f GB/s read (plus as much written)", cal.mem_GBps);
}

// Untimed pre-load of the first `bytes` of W by the TMA prefetch from `blocks` blocks, then a
// spin long enough for any issue rate seen in the smoke run (>= 150 GB/s a block) to finish.
static void preload_tma(const void* W, size_t bytes, int blocks, cudaStream_t s) {
  prefetch(W, bytes, false, s, blocks);
  spin(20.0 + bytes / (blocks * 150e3), s);  // 150e3 bytes/us = 150 GB/s
}

// GEMM alone: cold, hot, and the first fraction f of the weight pre-loaded into L2 by a read
// kernel (all SMs) or by the TMA prefetch (1 block, or 16 blocks): the L2-saving curve.
static void section_gemm() {
  Csv csv("gemm_alone.csv",
          "N,K,tokens_M,weight_bytes,weight_over_l2,state,preload_frac,preload_bytes,"
          "median_us,p10_us,p90_us,mean_us,reps,weight_GBps,sm_MHz");
  std::vector<double> fracs = {0.125, 0.25, 0.375, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0};
  std::vector<int> tokens = {8, 16, 32, 72, 128};
  if (g.quick) fracs = {0.25, 1.0}, tokens = {8};
  const int K = 4096;
  for (double fr : fracs)
    for (int M : tokens) {
      if (past_deadline()) return;
      const int N = weight_rows_for(fr, K);
      Gemm& gm = gemm_for(N, K, M);
      const size_t W = gm.weight_bytes();
      struct Row {
        std::string state;
        double f;
      };
      std::vector<Row> rows;
      std::vector<Variant> vs;
      auto body = [&gm](cudaStream_t s, cudaStream_t) { gm.run(g.wpool, s); };
      rows.push_back({"cold", 0});
      vs.push_back({"cold", body});
      rows.push_back({"hot", 1});
      vs.push_back({"hot", body, [&gm](cudaStream_t s) { gm.run(g.wpool, s); }});
      for (int i = 1; i <= 10; ++i) {
        const double f = i / 10.0;
        const size_t b = round16(f * W);
        rows.push_back({"preload_read", f});
        vs.push_back({"pr", body, [=](cudaStream_t s) { read_region(g.wpool, b, s); }});
        rows.push_back({"preload_tma1", f});
        vs.push_back({"pt1", body, [=](cudaStream_t s) { preload_tma(g.wpool, b, 1, s); }});
        rows.push_back({"preload_tma16", f});
        vs.push_back({"pt16", body, [=](cudaStream_t s) { preload_tma(g.wpool, b, 16, s); }});
      }
      auto st = measure(vs);
      for (size_t i = 0; i < vs.size(); ++i)
        csv.row("%d,%d,%d,%zu,%.4f,%s,%.2f,%zu," STATS_FMT ",%.1f,%.0f", N, K, M, W,
                W / (double)g.l2_bytes, rows[i].state.c_str(), rows[i].f,
                rows[i].state == "cold" ? 0 : round16(rows[i].f * W), STATS_ARGS(st[i]),
                W / (st[i].med * 1e3), g.last_sm_MHz);
      progress("gemm N=%5d M=%3d W=%6.1f MiB: cold %7.2f us (%5.0f GB/s) hot %7.2f | read f=.2 "
               "%7.2f f=1 %7.2f | tma1 f=.2 %7.2f f=1 %7.2f | tma16 f=.2 %7.2f f=1 %7.2f | %.0f MHz",
               N, M, W / (double)kMiB, st[0].med, W / (st[0].med * 1e3), st[1].med, st[5].med,
               st[29].med, st[6].med, st[30].med, st[7].med, st[31].med, g.last_sm_MHz);
    }
}

// Prefetch alone: the issuing kernel's time ("ff": until issued; "wait": until the TMA fence
// behind the prefetches returns), by bytes, issuing blocks and chunk size; and k prefetches back
// to back on one stream (does the second pay a set-up?).
static void section_prefetch() {
  Csv csv("prefetch_alone.csv",
          "mode,blocks,chunk_bytes,count,bytes_each,total_bytes,median_us,p10_us,p90_us,"
          "mean_us,reps,total_GBps");
  const size_t L2 = g.l2_bytes;
  std::vector<size_t> sizes = {0, 64 * 1024, 256 * 1024, 1 * kMiB, 2 * kMiB, 4 * kMiB,
                               8 * kMiB, 16 * kMiB, 32 * kMiB, round16(0.75 * L2),
                               round16(1.0 * L2), round16(1.5 * L2)};
  struct Cfg {
    int blocks;
    uint32_t chunk;
  };
  std::vector<Cfg> cfgs;
  for (uint32_t ch : {4096u, 16384u, 65536u, 262144u, 1048576u, 16777216u}) cfgs.push_back({1, ch});
  for (int nb : {2, 4, 8, 16, 32, 64})
    for (uint32_t ch : {65536u, 1048576u}) cfgs.push_back({nb, ch});
  if (g.quick) {
    sizes = {0, 1 * kMiB, 16 * kMiB, 32 * kMiB, round16(1.5 * L2)};
    cfgs = {{1, 65536}, {1, 1048576}, {4, 65536}, {16, 65536}, {16, 1048576}};
  }
  for (int wait = 0; wait <= 1; ++wait)
    for (const Cfg& c : cfgs) {
      if (past_deadline()) return;
      std::vector<Variant> vs;
      for (size_t b : sizes)
        vs.push_back({"pf", [=](cudaStream_t s, cudaStream_t) {
                        prefetch(g.wpool, b, wait, s, c.blocks, c.chunk);
                      }});
      auto st = measure(vs);
      std::string line;
      for (size_t i = 0; i < sizes.size(); ++i) {
        csv.row("%s,%d,%u,1,%zu,%zu," STATS_FMT ",%.1f", wait ? "wait" : "ff", c.blocks, c.chunk,
                sizes[i], sizes[i], STATS_ARGS(st[i]),
                sizes[i] ? sizes[i] / (st[i].med * 1e3) : 0.0);
        char buf[64];
        snprintf(buf, sizeof buf, " %.1fM:%.1f", sizes[i] / (double)kMiB, st[i].med);
        line += buf;
      }
      progress("prefetch %-4s blocks=%2d chunk=%8u us by size:%s", wait ? "wait" : "ff",
               c.blocks, c.chunk, line.c_str());
    }
  // back to back: k kernels of total/k bytes each (distinct consecutive regions)
  for (int nb : g.pf_blocks)
    for (int wait = 0; wait <= 1; ++wait)
      for (size_t total : {8 * kMiB, 32 * kMiB}) {
        std::vector<int> ks = {1, 2, 4, 8};
        std::vector<Variant> vs;
        for (int k : ks)
          vs.push_back({"b2b", [=](cudaStream_t s, cudaStream_t) {
                          for (int j = 0; j < k; ++j)
                            prefetch(g.wpool + j * (total / k), total / k, wait, s, nb);
                        }});
        auto st = measure(vs);
        for (size_t i = 0; i < ks.size(); ++i)
          csv.row("%s,%d,%u,%d,%zu,%zu," STATS_FMT ",%.1f", wait ? "wait" : "ff", nb,
                  g.chunk_bytes, ks[i], total / ks[i], total, STATS_ARGS(st[i]),
                  total / (st[i].med * 1e3));
        progress("prefetch b2b %-4s blocks=%2d total %2zu MiB: k=1 %6.2f k=2 %6.2f k=4 %6.2f "
                 "k=8 %6.2f us",
                 wait ? "wait" : "ff", nb, total / kMiB, st[0].med, st[1].med, st[2].med,
                 st[3].med);
      }
}

// When are a prefetch's bytes in L2? Reference reads of the region (a full-GPU read kernel):
// cold (after the flush), hot (a read kernel read it first), plateau (the prefetch, then a long
// spin: every byte that will arrive has arrived). Test "chunk": does a chunk size fill L2 at all?
// Test "progress": the prefetch (fire-and-forget) runs on the side stream; after spin(d) the
// compute stream reads the region while the prefetch may still run; the read time falls from
// cold to plateau as the bytes arrive: frac_arrived = (cold - read) / (cold - plateau).
static void section_arrival() {
  Csv csv("prefetch_arrival.csv",
          "test,variant,blocks,chunk_bytes,bytes,delay_req_us,prefetch_kernel_us,"
          "start_to_read_us,read_median_us,read_p10_us,read_p90_us,read_cold_us,read_hot_us,"
          "read_plateau_us,frac_arrived,reps");
  const int reps = g.reps;
  struct Cfg {
    const char* test;
    int blocks;
    uint32_t chunk;
    size_t bytes;
  };
  std::vector<Cfg> cfgs;
  for (uint32_t ch : {4096u, 16384u, 65536u, 131072u, 262144u, 524288u, 1048576u})
    cfgs.push_back({"chunk", 1, ch, 32 * kMiB});
  for (int nb : g.pf_blocks)
    for (size_t B : {8 * kMiB, 32 * kMiB, 48 * kMiB}) cfgs.push_back({"progress", nb, 65536, B});
  if (g.quick) cfgs = {{"chunk", 1, 262144, 32 * kMiB}, {"progress", 1, 65536, 32 * kMiB},
                       {"progress", 16, 65536, 32 * kMiB}};
  for (const Cfg& c : cfgs) {
    if (past_deadline()) return;
    const bool progress_test = std::string(c.test) == "progress";
    // the wait-mode kernel time sets the delays of the progress test
    double t_wait = 0;
    {
      std::vector<Variant> vs = {{"w", [&](cudaStream_t s, cudaStream_t) {
                                    prefetch(g.wpool, c.bytes, true, s, c.blocks, c.chunk);
                                  }}};
      t_wait = measure(vs, 5)[0].med;
    }
    std::vector<double> delays;
    if (progress_test)
      for (double f : {0.0, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.25, 1.5, 2.0})
        delays.push_back(f * t_wait);
    const double plateau_spin_us = 60.0 + 2.0 * t_wait;
    // variants: 0 cold, 1 hot, 2 plateau, 3 wait-mode then read, 4.. concurrent read after d
    const size_t V = 4 + delays.size();
    ensure_events(V * reps * 4);
    for (int rep = -g.warm; rep < reps; ++rep)
      for (size_t i = 0; i < V; ++i) {
        const size_t vi = (i + (size_t)std::max(rep, 0)) % V;
        cudaEvent_t* e = rep < 0 ? g.scratch : &g.events[(vi * reps + rep) * 4];
        flush_l2(g.s0);
        if (vi == 1) read_region(g.wpool, c.bytes, g.s0);
        CK(cudaEventRecord(e[0], g.s0));
        if (vi < 4) {
          if (vi == 2 || vi == 3) prefetch(g.wpool, c.bytes, vi == 3, g.s0, c.blocks, c.chunk);
          CK(cudaEventRecord(e[1], g.s0));
          if (vi == 2) spin(plateau_spin_us, g.s0);
          CK(cudaEventRecord(e[2], g.s0));
          read_region(g.wpool, c.bytes, g.s0);
          CK(cudaEventRecord(e[3], g.s0));
        } else {
          fork(g.s0, g.s1, 0);
          prefetch(g.wpool, c.bytes, false, g.s1, c.blocks, c.chunk);
          CK(cudaEventRecord(e[1], g.s1));
          if (delays[vi - 4] > 0) spin(delays[vi - 4], g.s0);
          CK(cudaEventRecord(e[2], g.s0));
          read_region(g.wpool, c.bytes, g.s0);
          CK(cudaEventRecord(e[3], g.s0));
          join(g.s0, g.s1, 0);
        }
      }
    CK(cudaStreamSynchronize(g.s0));
    CK(cudaGetLastError());
    std::vector<Stats> rd(V), pk(V), since(V);
    for (size_t vi = 0; vi < V; ++vi) {
      std::vector<float> r(reps), a(reps), cc(reps);
      for (int rep = 0; rep < reps; ++rep) {
        cudaEvent_t* e = &g.events[(vi * reps + rep) * 4];
        float ms;
        CK(cudaEventElapsedTime(&ms, e[2], e[3]));
        r[rep] = ms * 1e3f;
        CK(cudaEventElapsedTime(&ms, e[0], e[1]));
        a[rep] = ms * 1e3f;
        CK(cudaEventElapsedTime(&ms, e[0], e[2]));
        cc[rep] = ms * 1e3f;
      }
      rd[vi] = stats_of(r), pk[vi] = stats_of(a), since[vi] = stats_of(cc);
    }
    const double cold = rd[0].med, hot = rd[1].med, plat = rd[2].med;
    auto frac = [&](double t) { return (cold - t) / (cold - plat); };
    auto put = [&](const char* variant, double d, size_t vi) {
      csv.row("%s,%s,%d,%u,%zu,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.4f,%d", c.test,
              variant, c.blocks, c.chunk, c.bytes, d, pk[vi].med, since[vi].med, rd[vi].med,
              rd[vi].p10, rd[vi].p90, cold, hot, plat, frac(rd[vi].med), reps);
    };
    put("cold", 0, 0);
    put("hot", 0, 1);
    put("plateau", plateau_spin_us, 2);
    put("wait_then_read", 0, 3);
    for (size_t j = 0; j < delays.size(); ++j) put("concurrent", delays[j], 4 + j);
    std::string line;
    for (size_t j = 0; j < delays.size(); ++j) {
      char buf[64];
      snprintf(buf, sizeof buf, " %.0f:%.2f", since[4 + j].med, frac(rd[4 + j].med));
      line += buf;
    }
    progress("arrival %-8s b=%2d ch=%7u %4.0f MiB: read cold %.2f hot %.2f plateau %.2f | wait "
             "kernel %.2f us, then read %.2f | t_us:frac%s",
             c.test, c.blocks, c.chunk, c.bytes / (double)kMiB, cold, hot, plat, pk[3].med,
             rd[3].med, line.c_str());
  }
}

// A prefetch beside a memory-bound vector op (eager, events on both streams): how much each
// slows the other when they share HBM.
static void section_contention() {
  Csv csv("prefetch_contention.csv",
          "prefetch_mode,blocks,prefetch_bytes,vec_bytes_read,variant,vec_end_us,vec_end_p10_us,"
          "vec_end_p90_us,prefetch_end_us,prefetch_end_p10_us,prefetch_end_p90_us,total_us,"
          "total_p10_us,total_p90_us,reps");
  std::vector<size_t> pf = {16 * kMiB, round16(0.75 * g.l2_bytes)};
  std::vector<size_t> vb = {cal.mem_bytes_for(10), cal.mem_bytes_for(30)};
  if (g.quick) pf = {16 * kMiB}, vb = {cal.mem_bytes_for(10)};
  const int reps = g.reps;
  for (int nb : g.pf_blocks)
    for (int wait = 1; wait >= 0; --wait)
      for (size_t P : pf)
        for (size_t Bv : vb) {
          if (past_deadline()) return;
          const char* names[3] = {"vec_only", "prefetch_only", "both"};
          const size_t V = 3;
          ensure_events(V * reps * 4);
          for (int rep = -g.warm; rep < reps; ++rep)
            for (size_t i = 0; i < V; ++i) {
              const size_t vi = (i + (size_t)std::max(rep, 0)) % V;
              cudaEvent_t* e = rep < 0 ? g.scratch : &g.events[(vi * reps + rep) * 4];
              flush_l2(g.s0);
              CK(cudaEventRecord(e[0], g.s0));
              fork(g.s0, g.s1, 0);
              if (vi != 0) prefetch(g.wpool, P, wait, g.s1, nb);
              CK(cudaEventRecord(e[1], g.s1));
              if (vi != 1) vec_mem(Bv, g.s0);
              CK(cudaEventRecord(e[2], g.s0));
              join(g.s0, g.s1, 0);
              CK(cudaEventRecord(e[3], g.s0));
            }
          CK(cudaStreamSynchronize(g.s0));
          for (size_t vi = 0; vi < V; ++vi) {
            std::vector<float> pe(reps), ve(reps), te(reps);
            for (int rep = 0; rep < reps; ++rep) {
              cudaEvent_t* e = &g.events[(vi * reps + rep) * 4];
              float ms;
              CK(cudaEventElapsedTime(&ms, e[0], e[1]));
              pe[rep] = ms * 1e3f;
              CK(cudaEventElapsedTime(&ms, e[0], e[2]));
              ve[rep] = ms * 1e3f;
              CK(cudaEventElapsedTime(&ms, e[0], e[3]));
              te[rep] = ms * 1e3f;
            }
            Stats p = stats_of(pe), v = stats_of(ve), t = stats_of(te);
            csv.row("%s,%d,%zu,%zu,%s,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%d",
                    wait ? "wait" : "ff", nb, P, Bv, names[vi], v.med, v.p10, v.p90, p.med, p.p10,
                    p.p90, t.med, t.p10, t.p90, reps);
            progress("contention %-4s b=%2d pf %5.1f MiB vec %5.1f MiB %-13s vec_end %7.2f "
                     "pf_end %7.2f total %7.2f us",
                     wait ? "wait" : "ff", nb, P / (double)kMiB, Bv / (double)kMiB, names[vi],
                     v.med, p.med, t.med);
          }
        }
}

// Fork/join cost with no bytes moved, in a captured graph and eagerly.
static void section_forkjoin() {
  Csv csv("forkjoin.csv", "mode,variant,median_us,p10_us,p90_us,mean_us,reps");
  const int it5 = cal.lat_iters_for(5.0);
  for (int eager = 0; eager <= 1; ++eager) {
    std::vector<Variant> vs;
    auto add = [&](const char* name, Body b) {
      Variant v{name, b};
      v.eager = eager;
      vs.push_back(v);
    };
    add("empty", [](cudaStream_t s, cudaStream_t) { empty(s); });
    add("empty_empty", [](cudaStream_t s, cudaStream_t) { empty(s), empty(s); });
    add("empty_fork_pf0_join_empty", [](cudaStream_t s, cudaStream_t t) {
      empty(s);
      fork(s, t, 0);
      prefetch(g.wpool, 0, false, t);
      join(s, t, 0);
      empty(s);
    });
    add("empty_fork_join_empty", [](cudaStream_t s, cudaStream_t t) {
      empty(s);
      fork(s, t, 0);
      join(s, t, 0);
      empty(s);
    });
    add("lat5_empty", [=](cudaStream_t s, cudaStream_t) { vec_lat(32, 4096, it5, s), empty(s); });
    add("fork_pf0_lat5_join_empty", [=](cudaStream_t s, cudaStream_t t) {
      fork(s, t, 0);
      prefetch(g.wpool, 0, false, t);
      vec_lat(32, 4096, it5, s);
      join(s, t, 0);
      empty(s);
    });
    add("fork_lat5_join_empty", [=](cudaStream_t s, cudaStream_t t) {
      fork(s, t, 0);
      vec_lat(32, 4096, it5, s);
      join(s, t, 0);
      empty(s);
    });
    add("empty_x2_fork_pf0_join", [](cudaStream_t s, cudaStream_t t) {
      // two sites back to back, zero bytes each
      empty(s);
      fork(s, t, 0);
      prefetch(g.wpool, 0, false, t);
      join(s, t, 0);
      empty(s);
      fork(s, t, 1);
      prefetch(g.wpool, 0, false, t);
      join(s, t, 1);
      empty(s);
    });
    auto st = measure(vs);
    for (size_t i = 0; i < vs.size(); ++i) {
      csv.row("%s,%s," STATS_FMT, eager ? "eager" : "graph", vs[i].label.c_str(),
              STATS_ARGS(st[i]));
      progress("forkjoin %-5s %-28s %7.2f us", eager ? "eager" : "graph", vs[i].label.c_str(),
               st[i].med);
    }
  }
}

// Does the graph mix of a group change an op's time? The same single-GEMM graph timed in a
// group of single-stream graphs and in a group with a two-stream (fork/join) graph.
static void section_context() {
  Csv csv("graph_context.csv", "group,variant,median_us,p10_us,p90_us,mean_us,reps");
  Gemm& gm = gemm_for(weight_rows_for(0.25, 4096), 4096, 72);
  Body single = [&gm](cudaStream_t s, cudaStream_t) { gm.run(g.wpool, s); };
  Body two = [&gm](cudaStream_t s, cudaStream_t t) {
    empty(s);
    fork(s, t, 0);
    prefetch(g.wpool, 0, true, t);
    join(s, t, 0);
    gm.run(g.wpool, s);
  };
  std::vector<std::pair<const char*, std::vector<Variant>>> groups = {
      {"single_only", {{"gemm", single}, {"gemm_copy", single}}},
      {"with_two_stream", {{"gemm", single}, {"fork_pf0_join_gemm", two}}},
      {"eager_and_graph", {{"gemm", single}, {"gemm_eager", single}}}};
  groups[2].second[1].eager = true;
  for (auto& gr : groups) {
    auto st = measure(gr.second);
    for (size_t i = 0; i < gr.second.size(); ++i) {
      csv.row("%s,%s," STATS_FMT, gr.first, gr.second[i].label.c_str(), STATS_ARGS(st[i]));
      progress("context %-16s %-20s %7.2f us", gr.first, gr.second[i].label.c_str(), st[i].med);
    }
  }
}

// The same op k times back to back (graph and eager): intercept = the fixed start/tail cost an
// op pays alone, slope = its cost in sequence.
static void section_seq() {
  Csv csv("seq_k.csv", "mode,op,count,median_us,p10_us,p90_us,mean_us,reps");
  struct Op {
    const char* name;
    std::function<void(cudaStream_t, int)> run;  // j = copy index (distinct buffers)
  };
  Gemm& gm = gemm_for(2048, 4096, 32);  // 16 MiB weight
  const size_t wb = gm.weight_bytes();
  std::vector<Op> ops = {
      {"empty", [](cudaStream_t s, int) { empty(s); }},
      {"vec_lat_1iter_32tok", [](cudaStream_t s, int) { vec_lat(32, 4096, 1, s); }},
      {"vec_mem_4MiB", [](cudaStream_t s, int j) { vec_mem(4 * kMiB, s, j * 4 * kMiB); }},
      {"gemm_N2048_K4096_M32", [&gm, wb](cudaStream_t s, int j) { gm.run(g.wpool + j * wb, s); }},
      {"prefetch_0B", [](cudaStream_t s, int) { prefetch(g.wpool, 0, false, s); }},
      {"prefetch_wait_4MiB", [](cudaStream_t s, int j) {
         prefetch(g.wpool + j * 4 * kMiB, 4 * kMiB, true, s);
       }}};
  std::vector<int> ks = {1, 2, 4, 8};
  for (int eager = 0; eager <= 1; ++eager)
    for (auto& op : ops) {
      if (past_deadline()) return;
      std::vector<Variant> vs;
      for (int k : ks) {
        Variant v{op.name, [&op, k](cudaStream_t s, cudaStream_t) {
                    for (int j = 0; j < k; ++j) op.run(s, j);
                  }};
        v.eager = eager;
        vs.push_back(v);
      }
      auto st = measure(vs);
      for (size_t i = 0; i < ks.size(); ++i)
        csv.row("%s,%s,%d," STATS_FMT, eager ? "eager" : "graph", op.name, ks[i],
                STATS_ARGS(st[i]));
      progress("seq %-5s %-22s k=1 %7.2f k=2 %7.2f k=4 %7.2f k=8 %7.2f us -> per op %.2f us",
               eager ? "eager" : "graph", op.name, st[0].med, st[1].med, st[2].med, st[3].med,
               (st[3].med - st[0].med) / 7.0);
    }
}

// ------------------------------------------------------------------------------------------
// combined (i) join before the GEMM and (ii) join after the GEMM
// ------------------------------------------------------------------------------------------
struct Window {
  std::string name;  // lat1iter, lat15, ... mem10, mem30
  bool mem = false;
  int iters = 1;
  size_t bytes = 0;
  void run(int tokens, cudaStream_t s) const {
    if (mem)
      vec_mem(bytes, s);
    else
      vec_lat(tokens, 4096, iters, s);
  }
  long param() const { return mem ? (long)bytes : iters; }
};

static std::vector<Window> combined_windows() {
  auto lat = [&](double us) {
    Window w;
    w.name = us <= 0 ? "lat1iter" : "lat" + std::to_string((int)us);
    w.iters = us <= 0 ? 1 : cal.lat_iters_for(us);
    return w;
  };
  auto mem = [&](double us) {
    Window w;
    w.name = "mem" + std::to_string((int)us);
    w.mem = true;
    w.bytes = cal.mem_bytes_for(us);
    return w;
  };
  if (g.quick) return {lat(0), lat(30), mem(10)};
  return {lat(0), lat(15), lat(30), lat(60), mem(10), mem(30)};
}

static void section_combined(bool join_after) {
  Csv csv(join_after ? "combined_ii.csv" : "combined_i.csv",
          "group,N,K,tokens_M,weight_bytes,weight_over_l2,window,window_kind,window_param,"
          "row_class,variant,prefetch_mode,prefetch_blocks,chunk_bytes,ratio,prefetch_bytes,"
          "median_us,p10_us,p90_us,mean_us,reps,sm_MHz");
  std::vector<double> fracs = {0.125, 0.25, 0.5, 1.0, 1.5};
  std::vector<int> tokens = {8, 16, 32, 72, 128};
  std::vector<Window> wins = combined_windows();
  if (g.quick) fracs = {0.25, 1.5}, tokens = {72};
  const int K = 4096;
  int group = 0;
  for (double fr : fracs)
    for (int M : tokens)
      for (const Window& w : wins) {
        if (past_deadline()) return;
        const int N = weight_rows_for(fr, K);
        Gemm& gm = gemm_for(N, K, M);
        const size_t W = gm.weight_bytes();
        struct Meta {
          const char* cls;
          std::string variant;
          const char* mode;
          int blocks;
          double r;
          size_t bytes;
        };
        std::vector<Meta> meta;
        std::vector<Variant> vs;
        auto add = [&](Meta m, Body b) {
          meta.push_back(m);
          vs.push_back({m.variant, b});
        };
        // every timed sequence but the alone rows starts with a lead op (an empty kernel: the op
        // before the window), so that the fork happens mid-graph as in a decode graph
        add({"alone", "alone_lead", "none", 0, 0, 0}, [](cudaStream_t s, cudaStream_t) { empty(s); });
        add({"alone", "alone_vec", "none", 0, 0, 0},
            [w, M](cudaStream_t s, cudaStream_t) { w.run(M, s); });
        add({"alone", "alone_gemm", "none", 0, 0, 0},
            [&gm](cudaStream_t s, cudaStream_t) { gm.run(g.wpool, s); });
        for (const char* bname : {"base", "base_repeat"})
          add({"baseline", bname, "none", 0, 0, 0}, [w, M, &gm](cudaStream_t s, cudaStream_t) {
            empty(s);
            w.run(M, s);
            gm.run(g.wpool, s);
          });
        // lead -> prefetch_preprocess (fork) -> vector op -> [join] -> GEMM -> [join]
        auto site = [w, M, &gm, join_after](size_t bytes, bool wait, int blocks) {
          return [=, &gm](cudaStream_t s, cudaStream_t t) {
            empty(s);
            fork(s, t, 0);
            prefetch(g.wpool, bytes, wait, t, blocks);
            CK(cudaEventRecord(g.fj[1], t));
            w.run(M, s);
            if (!join_after) CK(cudaStreamWaitEvent(s, g.fj[1], 0));
            gm.run(g.wpool, s);
            if (join_after) CK(cudaStreamWaitEvent(s, g.fj[1], 0));
          };
        };
        add({"combined", "fj0", "zero", 1, 0, 0}, site(0, true, 1));
        for (int nb : g.pf_blocks)
          for (int i = 1; i <= 10; ++i) {
            const double r = i / 10.0;
            const size_t b = round16(r * W);
            add({"combined", "r", "wait", nb, r, b}, site(b, true, nb));
          }
        auto st = measure(vs);
        for (size_t i = 0; i < vs.size(); ++i)
          csv.row("%d,%d,%d,%d,%zu,%.4f,%s,%s,%ld,%s,%s,%s,%d,%u,%.2f,%zu," STATS_FMT ",%.0f",
                  group, N, K, M, W, W / (double)g.l2_bytes, w.name.c_str(), w.mem ? "mem" : "lat",
                  w.param(), meta[i].cls, meta[i].variant.c_str(), meta[i].mode, meta[i].blocks,
                  meta[i].blocks ? g.chunk_bytes : 0, meta[i].r, meta[i].bytes, STATS_ARGS(st[i]),
                  g.last_sm_MHz);
        // best ratio per prefetch configuration for the progress line
        std::string line;
        for (size_t c = 0; c < g.pf_blocks.size(); ++c) {
          size_t best = 3;
          for (size_t i = 6 + 10 * c; i < 16 + 10 * c; ++i)
            if (st[i].med < st[best].med) best = i;
          char buf[96];
          snprintf(buf, sizeof buf, " b%d r.3 %.1f r1 %.1f best %.1f@%.1f", meta[6 + 10 * c].blocks,
                   st[8 + 10 * c].med, st[15 + 10 * c].med, st[best].med, meta[best].r);
          line += buf;
        }
        progress("(%s) g%3d W=%5.1f MiB M=%3d %-8s vec %6.2f gemm %6.2f base %7.2f/%7.2f fj0 "
                 "%6.2f |%s | %.0f MHz",
                 join_after ? "ii" : "i", group, W / (double)kMiB, M, w.name.c_str(), st[1].med,
                 st[2].med, st[3].med, st[4].med, st[5].med, line.c_str(), g.last_sm_MHz);
        ++group;
      }
}

// ------------------------------------------------------------------------------------------
// (iii) a small decoder layer with four sites on one FIFO prefetch stream
// ------------------------------------------------------------------------------------------
struct Layer {
  static constexpr int H = 4096;
  Gemm *qkv = nullptr, *o = nullptr, *gate_up = nullptr, *down = nullptr;
  char *w_qkv = nullptr, *w_o = nullptr, *w_gu = nullptr, *w_down = nullptr;
  int tokens = 0;
  int allreduce_iters = 1;
  size_t attn_bytes = 0;
};

static const char* kLayerOps[12] = {"input_layernorm", "qkv_quant",  "qkv_proj",
                                    "rope",            "attention",  "o_quant",
                                    "o_proj",          "allreduce_standin",
                                    "post_attention_layernorm",      "gate_up_proj",
                                    "act",             "down_proj"};

// sites: 0 qkv, 1 o, 2 gate_up (joined after its GEMM: the race), 3 down. bytes[i] == SIZE_MAX:
// site off (no fork/join). only_op >= 0: that op alone.
static void run_layer(const Layer& L, const size_t* bytes, bool wait, int blocks, int only_op,
                      cudaStream_t s, cudaStream_t t) {
  auto on = [&](int site) { return bytes && bytes[site] != SIZE_MAX; };
  auto op = [&](int k) {
    if (only_op >= 0 && only_op != k) return;
    switch (k) {
      case 0: vec_lat(L.tokens, 4096, 1, s); break;
      case 1: vec_lat(L.tokens, 4096, 1, s); break;
      case 2: L.qkv->run(L.w_qkv, s); break;
      case 3: vec_lat(L.tokens, 1536, 1, s); break;
      case 4: vec_mem(L.attn_bytes, s); break;
      case 5: vec_lat(L.tokens, 1024, 1, s); break;
      case 6: L.o->run(L.w_o, s); break;
      case 7: vec_lat(L.tokens, 4096, L.allreduce_iters, s); break;
      case 8: vec_lat(L.tokens, 4096, 1, s); break;
      case 9: L.gate_up->run(L.w_gu, s); break;
      case 10: vec_lat(L.tokens, 4096, 1, s); break;
      case 11: L.down->run(L.w_down, s); break;
    }
  };
  const char* w[4] = {L.w_qkv, L.w_o, L.w_gu, L.w_down};
  auto fk = [&](int site) {
    if (!on(site)) return;
    fork(s, t, site);
    prefetch(w[site], bytes[site], wait, t, blocks);
    CK(cudaEventRecord(g.fj[2 * site + 1], t));
  };
  auto jn = [&](int site) {
    if (on(site)) CK(cudaStreamWaitEvent(s, g.fj[2 * site + 1], 0));
  };
  op(0);
  fk(0);
  op(1);
  jn(0);
  op(2);
  op(3);
  op(4);
  fk(1);
  op(5);
  jn(1);
  op(6);
  fk(2);
  op(7);
  op(8);
  op(9);
  jn(2);
  fk(3);
  op(10);
  jn(3);
  op(11);
}

static void section_layer() {
  Csv csv("combined_iii.csv",
          "tokens,row_class,variant,sweep,prefetch_mode,prefetch_blocks,chunk_bytes,r_qkv,r_o,"
          "r_gate_up,r_down,bytes_qkv,bytes_o,bytes_gate_up,bytes_down,median_us,p10_us,p90_us,"
          "mean_us,reps,sm_MHz");
  Layer L;
  const int H = Layer::H;
  // Qwen3-like per-rank shapes (hidden 4096, 8 q heads + 2 kv heads of 128, intermediate 2048)
  const int n_qkv = 1536, k_o = 1024, n_gu = 4096, k_down = 2048;
  size_t sz[4] = {(size_t)n_qkv * H * 2, (size_t)H * k_o * 2, (size_t)n_gu * H * 2,
                  (size_t)H * k_down * 2};
  char* base;
  CK(cudaMalloc(&base, sz[0] + sz[1] + sz[2] + sz[3]));
  L.w_qkv = base, L.w_o = base + sz[0], L.w_gu = L.w_o + sz[1], L.w_down = L.w_gu + sz[2];
  init_kernel<<<1024, 256>>>((bf16*)base, (sz[0] + sz[1] + sz[2] + sz[3]) / 2, 7);
  CK(cudaDeviceSynchronize());
  L.allreduce_iters = cal.lat_iters_for(10.0);
  {
    FILE* f = fopen((g.out_dir + "/layer_meta.json").c_str(), "w");
    fprintf(f,
            "{\n  \"hidden\": %d,\n  \"qkv_proj\": {\"N\": %d, \"K\": %d, \"bytes\": %zu},\n"
            "  \"o_proj\": {\"N\": %d, \"K\": %d, \"bytes\": %zu},\n"
            "  \"gate_up_proj\": {\"N\": %d, \"K\": %d, \"bytes\": %zu},\n"
            "  \"down_proj\": {\"N\": %d, \"K\": %d, \"bytes\": %zu},\n"
            "  \"allreduce_standin_iters\": %d,\n  \"attention_bytes_per_token\": %d,\n"
            "  \"ops\": [\"input_layernorm\", \"[fork qkv]\", \"qkv_quant\", \"[join qkv]\", "
            "\"qkv_proj\", \"rope\", \"attention\", \"[fork o]\", \"o_quant\", \"[join o]\", "
            "\"o_proj\", \"[fork gate_up]\", \"allreduce_standin\", "
            "\"post_attention_layernorm\", \"gate_up_proj\", \"[join gate_up]\", "
            "\"[fork down]\", \"act\", \"[join down]\", \"down_proj\"]\n}\n",
            H, n_qkv, H, sz[0], H, k_o, sz[1], n_gu, H, sz[2], H, k_down, sz[3],
            L.allreduce_iters, 262144);
    fclose(f);
  }
  std::vector<int> tokens = {8, 32, 72, 128};
  if (g.quick) tokens = {72};
  for (int M : tokens) {
    if (past_deadline()) return;
    L.tokens = M;
    L.attn_bytes = (size_t)M * 262144;  // KV bytes read per token (context ~512 at 2 kv heads)
    L.qkv = &gemm_for(n_qkv, H, M);
    L.o = &gemm_for(H, k_o, M);
    L.gate_up = &gemm_for(n_gu, H, M);
    L.down = &gemm_for(H, k_down, M);
    struct Meta {
      const char* cls;
      std::string variant, sweep;
      const char* mode;
      int blocks;
      double r[4];
      size_t b[4];
    };
    std::vector<Meta> meta;
    std::vector<Variant> vs;
    const size_t OFF = SIZE_MAX;
    for (int k = 0; k < 12; ++k) {
      meta.push_back({"alone", std::string("alone:") + kLayerOps[k], "-", "none", 0,
                      {0, 0, 0, 0}, {0, 0, 0, 0}});
      vs.push_back({"alone", [&L, k](cudaStream_t s, cudaStream_t t) {
                      run_layer(L, nullptr, false, 1, k, s, t);
                    }});
    }
    for (const char* bname : {"base", "base_repeat"}) {
      meta.push_back({"baseline", bname, "-", "none", 0, {0, 0, 0, 0}, {0, 0, 0, 0}});
      vs.push_back({bname, [&L](cudaStream_t s, cudaStream_t t) {
                      run_layer(L, nullptr, false, 1, -1, s, t);
                    }});
    }
    meta.push_back({"combined", "fj0", "all", "zero", 1, {0, 0, 0, 0}, {0, 0, 0, 0}});
    vs.push_back({"fj0", [&L](cudaStream_t s, cudaStream_t t) {
                    size_t b[4] = {0, 0, 0, 0};
                    run_layer(L, b, true, 1, -1, s, t);
                  }});
    struct Sweep {
      const char* name;
      bool site_on[4];
    };
    std::vector<Sweep> sweeps = {{"all", {true, true, true, true}},
                                 {"gate_up", {false, false, true, false}},
                                 {"down", {false, false, false, true}},
                                 {"qkv_o", {true, true, false, false}}};
    for (int nb : g.pf_blocks)
      for (int wait = 1; wait >= 1; --wait)  // wait mode only: ff equals it at 64 KiB chunks
        for (const Sweep& sw : sweeps)
          for (int i = 1; i <= 10; ++i) {
            const double r = i / 10.0;
            Meta m{"combined", "r", sw.name, wait ? "wait" : "ff", nb, {0, 0, 0, 0},
                   {0, 0, 0, 0}};
            size_t b[4];
            for (int s = 0; s < 4; ++s) {
              m.r[s] = sw.site_on[s] ? r : 0;
              m.b[s] = sw.site_on[s] ? round16(r * sz[s]) : 0;
              b[s] = sw.site_on[s] ? m.b[s] : OFF;
            }
            meta.push_back(m);
            std::vector<size_t> bv(b, b + 4);
            vs.push_back({"r", [&L, bv, wait, nb](cudaStream_t s, cudaStream_t t) {
                            run_layer(L, bv.data(), wait, nb, -1, s, t);
                          }});
          }
    auto st = measure(vs);
    double sum_alone = 0;
    for (size_t i = 0; i < vs.size(); ++i) {
      const Meta& m = meta[i];
      if (i < 12) sum_alone += st[i].med;
      csv.row("%d,%s,%s,%s,%s,%d,%u,%.2f,%.2f,%.2f,%.2f,%zu,%zu,%zu,%zu," STATS_FMT ",%.0f", M,
              m.cls, m.variant.c_str(), m.sweep.c_str(), m.mode, m.blocks,
              m.blocks ? g.chunk_bytes : 0, m.r[0], m.r[1], m.r[2], m.r[3], m.b[0], m.b[1],
              m.b[2], m.b[3], STATS_ARGS(st[i]), g.last_sm_MHz);
    }
    size_t best = 12;
    for (size_t i = 14; i < vs.size(); ++i)
      if (st[i].med < st[best].med) best = i;
    const Meta& mb = meta[best];
    progress("(iii) M=%3d sum of alone %7.2f us, layer %7.2f / %7.2f us (%.1f %% below the sum), "
             "fj0 %7.2f, all r=1 b%d wait %7.2f, best %s %s b%d r=(%.1f %.1f %.1f %.1f) %7.2f | "
             "%.0f MHz",
             M, sum_alone, st[12].med, st[13].med, 100.0 * (1 - st[12].med / sum_alone),
             st[14].med, meta[24].blocks, st[24].med, mb.sweep.c_str(), mb.mode, mb.blocks,
             mb.r[0], mb.r[1], mb.r[2], mb.r[3], st[best].med, g.last_sm_MHz);
  }
  CK(cudaFree(base));
}

// ------------------------------------------------------------------------------------------

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OUTDIR [--quick] [--reps N] [--chunk BYTES] [--deadline-s S] "
                    "[--only a,b]\n", argv[0]);
    return 1;
  }
  g.t_start = std::chrono::steady_clock::now();
  g.out_dir = argv[1];
  std::string only;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") g.quick = true;
    else if (a == "--reps" && i + 1 < argc) g.reps = atoi(argv[++i]);
    else if (a == "--chunk" && i + 1 < argc) g.chunk_bytes = (uint32_t)atol(argv[++i]);
    else if (a == "--deadline-s" && i + 1 < argc) g.deadline_s = atof(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--pf-blocks" && i + 1 < argc) {
      g.pf_blocks.clear();
      for (char* t = strtok(argv[++i], ","); t; t = strtok(nullptr, ",")) g.pf_blocks.push_back(atoi(t));
    }
    else {
      fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 1;
    }
  }
  if (g.quick && g.reps == 51) g.reps = 7;
  auto want = [&](const char* s) {
    return only.empty() || ("," + only + ",").find(std::string(",") + s + ",") != std::string::npos;
  };

  CK(cudaSetDevice(0));
  CK(cudaGetDeviceProperties(&g.prop, 0));
  g.sms = g.prop.multiProcessorCount;
  g.l2_bytes = g.prop.l2CacheSize;
  if (g.prop.major < 9) {
    fprintf(stderr, "needs sm_90 (cp.async.bulk.prefetch.L2); found %d.%d\n", g.prop.major,
            g.prop.minor);
    return 1;
  }
  CK(cudaStreamCreateWithFlags(&g.s0, cudaStreamNonBlocking));
  CK(cudaStreamCreateWithFlags(&g.s1, cudaStreamNonBlocking));
  CKL(cublasLtCreate(&g.lt));
  CK(cudaMalloc(&g.ws, g.ws_bytes));
  g.flush_bytes = (3 * g.l2_bytes + 15) / 16 * 16;  // 3x L2 of other data evicts every line
  CK(cudaMalloc(&g.flush_buf, g.flush_bytes));
  CK(cudaMemset(g.flush_buf, 0, g.flush_bytes));
  CK(cudaMalloc(&g.sink, 64));
  CK(cudaMalloc(&g.clk, 2048 * sizeof(uint64_t)));
  g.wpool_bytes = std::max<size_t>(2 * g.l2_bytes + 16 * kMiB, 160 * kMiB);
  CK(cudaMalloc(&g.wpool, g.wpool_bytes));
  init_kernel<<<2048, 256>>>((bf16*)g.wpool, g.wpool_bytes / 2, 1);
  CK(cudaMalloc(&g.x, 128 * 8192 * sizeof(bf16)));
  init_kernel<<<256, 256>>>(g.x, 128 * 8192, 2);
  CK(cudaMalloc(&g.y, 128 * 32768 * sizeof(bf16)));
  CK(cudaMalloc(&g.lat_in, 128 * 8192 * sizeof(bf16)));
  CK(cudaMalloc(&g.lat_out, 128 * 8192 * sizeof(bf16)));
  init_kernel<<<256, 256>>>(g.lat_in, 128 * 8192, 3);
  CK(cudaMalloc(&g.mem_in, g.mem_bytes));
  CK(cudaMalloc(&g.mem_out, g.mem_bytes));
  init_kernel<<<2048, 256>>>((bf16*)g.mem_in, g.mem_bytes / 2, 4);
  for (auto& e : g.fj) CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  for (auto& e : g.scratch) CK(cudaEventCreate(&e));
  CK(cudaDeviceSynchronize());
  check_launch();

  section_meta();
  warm_gpu();
  progress("warm-up done");
  if (want("bandwidth")) section_bandwidth();
  if (want("vec") || want("combined_i") || want("combined_ii") || want("layer") ||
      want("forkjoin") || want("contention"))
    section_vec();  // calibrates the window lengths used below
  if (want("forkjoin")) section_forkjoin();
  if (want("prefetch")) section_prefetch();
  if (want("arrival")) section_arrival();
  if (want("gemm")) section_gemm();
  if (want("seq")) section_seq();
  if (want("context")) section_context();
  if (want("contention")) section_contention();
  if (want("combined_i")) section_combined(false);
  if (want("layer")) section_layer();
  if (want("combined_ii")) section_combined(true);
  progress("done%s", past_deadline() ? " (deadline reached: some sections were cut short)" : "");
  return 0;
}
