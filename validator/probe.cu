// warpsim-probe: microbenchmarks of a real GPU, written as a Kineto-compatible trace (so
// `warpsim validate` can re-simulate it) plus a JSON of measured parameters (so `warpsim
// calibrate` can fit a preset's efficiencies). Every timed kernel records its launch shape,
// registers, shared memory, FLOPs and bytes, so warpsim can predict exactly what was measured.
//
//   warpsim-probe [--out DIR] [--quick]
//     DIR/probe_trace.json    Kineto-style trace: cuda_runtime launches + kernel events
//     DIR/probe.json          measured parameters (docs/validation.md lists the keys)
//
// Safety: unified-memory tests size themselves from cudaMemGetInfo and never allocate more than
// a quarter of the free device memory, so the device is never oversubscribed.

#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

#define CHECK_CUDA(x)                                                                   \
  do {                                                                                  \
    cudaError_t e_ = (x);                                                               \
    if (e_ != cudaSuccess) {                                                            \
      std::fprintf(stderr, "warpsim-probe: %s failed: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

double host_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// ------------------------------------------------------------------------------------------
// The trace: one cuda_runtime event and one kernel event per timed launch, linked by
// correlation, with device times from CUDA events against a base event.

struct Shape {
  dim3 grid, block;
  int registers = 0;
  size_t shared = 0;
};

class TraceWriter {
 public:
  void begin(int device) {
    device_ = device;
    CHECK_CUDA(cudaEventCreate(&base_));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CUDA(cudaEventRecord(base_));
    CHECK_CUDA(cudaEventSynchronize(base_));
    base_us_ = host_us();
  }
  // A kernel timed by events `start`/`stop` (already complete), launched from the host at
  // `launch_us` for `launch_dur` us.
  void kernel(const std::string& name, const Shape& s, cudaEvent_t start, cudaEvent_t stop,
              double launch_us, double launch_dur, long long stream, double flops, double bytes,
              const std::string& extra = "") {
    float a = 0, b = 0;
    CHECK_CUDA(cudaEventElapsedTime(&a, base_, start));
    CHECK_CUDA(cudaEventElapsedTime(&b, base_, stop));
    const long long corr = ++correlation_;
    std::ostringstream e;
    e.precision(15);
    e << "{\"ph\":\"X\",\"cat\":\"cuda_runtime\",\"name\":\"cudaLaunchKernel\",\"pid\":1,\"tid\":1,"
      << "\"ts\":" << launch_us << ",\"dur\":" << launch_dur
      << ",\"args\":{\"correlation\":" << corr << "}}";
    events_.push_back(e.str());
    std::ostringstream k;
    k.precision(15);
    k << "{\"ph\":\"X\",\"cat\":\"kernel\",\"name\":" << json_str(name) << ",\"pid\":0,\"tid\":"
      << stream << ",\"ts\":" << base_us_ + a * 1e3 << ",\"dur\":" << (b - a) * 1e3
      << ",\"args\":{\"device\":" << device_ << ",\"stream\":" << stream
      << ",\"correlation\":" << corr << ",\"grid\":[" << s.grid.x << "," << s.grid.y << ","
      << s.grid.z << "],\"block\":[" << s.block.x << "," << s.block.y << "," << s.block.z
      << "],\"registers per thread\":" << s.registers << ",\"shared memory\":" << s.shared
      << extra;
    if (flops >= 0) k << ",\"flops\":" << flops << ",\"bytes\":" << bytes;
    k << "}}";
    events_.push_back(k.str());
  }
  void write(const std::string& path, const cudaDeviceProp& p) {
    std::ofstream o(path);
    o << "{\"schemaVersion\":1,\"deviceProperties\":[{\"id\":" << device_
      << ",\"name\":" << json_str(p.name) << ",\"totalGlobalMem\":" << p.totalGlobalMem
      << ",\"computeMajor\":" << p.major << ",\"computeMinor\":" << p.minor
      << ",\"numSms\":" << p.multiProcessorCount << ",\"sharedMemPerMultiprocessor\":"
      << p.sharedMemPerMultiprocessor << ",\"regsPerMultiprocessor\":" << p.regsPerMultiprocessor
      << "}],\"traceEvents\":[\n";
    for (size_t i = 0; i < events_.size(); ++i) o << events_[i] << (i + 1 < events_.size() ? ",\n" : "\n");
    o << "]}\n";
  }

 private:
  int device_ = 0;
  cudaEvent_t base_{};
  double base_us_ = 0;
  long long correlation_ = 0;
  std::vector<std::string> events_;
};

template <typename K>
Shape shape_of(K kernel, dim3 grid, dim3 block, size_t shared = 0) {
  cudaFuncAttributes a{};
  CHECK_CUDA(cudaFuncGetAttributes(&a, reinterpret_cast<const void*>(kernel)));
  return Shape{grid, block, a.numRegs, a.sharedSizeBytes + shared};
}

// ------------------------------------------------------------------------------------------
// Kernels.

__global__ void empty_kernel() {}

__global__ void copy_kernel(const float4* __restrict__ in, float4* __restrict__ out, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = in[i];
}

__global__ void read_kernel(const float4* __restrict__ in, size_t n, int reps, float* sink) {
  float acc = 0;
  for (int r = 0; r < reps; ++r)
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
      const float4 v = in[i];
      acc += v.x + v.y + v.z + v.w;
    }
  if (acc == 1234.5f) *sink = acc;  // keeps the loads alive
}

__global__ void add_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    c[i] = a[i] + b[i];
}

__global__ void sum_kernel(const float* __restrict__ a, size_t n, float* out) {
  __shared__ float part[256];
  float acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    acc += a[i];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, part[0]);
}

// Spins for `cycles` SM clocks: a fixed amount of work per CTA, for concurrency and SM-count
// tests (its time does not depend on memory).
__global__ void spin_kernel(long long cycles) {
  const long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}

__global__ void touch_kernel(char* p, size_t bytes, size_t stride) {
  for (size_t i = (blockIdx.x * size_t(blockDim.x) + threadIdx.x) * stride; i < bytes;
       i += size_t(gridDim.x) * blockDim.x * stride)
    p[i] = 1;
}

// ------------------------------------------------------------------------------------------

struct Probe {
  TraceWriter trace;
  std::ostringstream params;
  bool first_section = true;
  cudaDeviceProp prop{};
  int device = 0;
  bool quick = false;
  cudaEvent_t e0{}, e1{};

  void section(const std::string& key, const std::string& value) {
    params << (first_section ? "" : ",\n") << "  " << json_str(key) << ": " << value;
    first_section = false;
  }

  // Launches `launch` on `stream` between two events; records it in the trace; seconds.
  double timed(const std::string& name, const Shape& s, cudaStream_t stream, long long stream_id,
               double flops, double bytes, const std::function<void()>& launch,
               const std::string& extra = "") {
    CHECK_CUDA(cudaEventRecord(e0, stream));
    const double t = host_us();
    launch();
    const double dt = host_us() - t;
    CHECK_CUDA(cudaEventRecord(e1, stream));
    CHECK_CUDA(cudaEventSynchronize(e1));
    CHECK_CUDA(cudaGetLastError());
    trace.kernel(name, s, e0, e1, t, dt, stream_id, flops, bytes, extra);
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    return ms * 1e-3;
  }

  void launch_overheads() {
    const int n = quick ? 200 : 2000;
    const Shape s = shape_of(empty_kernel, dim3(1), dim3(32));
    for (int i = 0; i < 50; ++i) empty_kernel<<<1, 32>>>();
    CHECK_CUDA(cudaDeviceSynchronize());
    // Latency: launch + wait, one at a time (host round trip of an empty kernel).
    double t = host_us();
    for (int i = 0; i < n; ++i) {
      empty_kernel<<<1, 32>>>();
      CHECK_CUDA(cudaStreamSynchronize(0));
    }
    const double latency_us = (host_us() - t) / n;
    // Host cost of one launch, and the device-side gap of back-to-back kernels on one stream.
    CHECK_CUDA(cudaEventRecord(e0));
    t = host_us();
    for (int i = 0; i < n; ++i) empty_kernel<<<1, 32>>>();
    const double host_per_launch_us = (host_us() - t) / n;
    CHECK_CUDA(cudaEventRecord(e1));
    CHECK_CUDA(cudaEventSynchronize(e1));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    const double gap_us = ms * 1e3 / n;
    // A CUDA graph of n empty kernels: device time per node and host time of the launch.
    cudaStream_t cs;
    CHECK_CUDA(cudaStreamCreateWithFlags(&cs, cudaStreamNonBlocking));
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CHECK_CUDA(cudaStreamBeginCapture(cs, cudaStreamCaptureModeGlobal));
    for (int i = 0; i < 100; ++i) empty_kernel<<<1, 32, 0, cs>>>();
    CHECK_CUDA(cudaStreamEndCapture(cs, &g));
    CHECK_CUDA(cudaGraphInstantiate(&ge, g, 0));
    CHECK_CUDA(cudaGraphLaunch(ge, cs));
    CHECK_CUDA(cudaStreamSynchronize(cs));
    CHECK_CUDA(cudaEventRecord(e0, cs));
    t = host_us();
    CHECK_CUDA(cudaGraphLaunch(ge, cs));
    const double graph_launch_us = host_us() - t;
    CHECK_CUDA(cudaEventRecord(e1, cs));
    CHECK_CUDA(cudaEventSynchronize(e1));
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    const double graph_node_us = ms * 1e3 / 100;
    CHECK_CUDA(cudaGraphExecDestroy(ge));
    CHECK_CUDA(cudaGraphDestroy(g));
    CHECK_CUDA(cudaStreamDestroy(cs));
    for (int i = 0; i < 20; ++i)
      timed("empty_kernel", s, 0, 7, 0, 0, [] { empty_kernel<<<1, 32>>>(); });
    std::ostringstream o;
    o << "{\"launch_latency_us\": " << latency_us << ", \"host_per_launch_us\": " << host_per_launch_us
      << ", \"kernel_gap_us\": " << gap_us << ", \"graph_launch_us\": " << graph_launch_us
      << ", \"graph_node_us\": " << graph_node_us << "}";
    section("launch", o.str());
  }

  void memcpy_bandwidth() {
    size_t free_b = 0, total_b = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
    const size_t bytes = std::min<size_t>(quick ? (64u << 20) : (512u << 20), free_b / 8);
    void *h, *d0, *d1;
    CHECK_CUDA(cudaMallocHost(&h, bytes));
    CHECK_CUDA(cudaMalloc(&d0, bytes));
    CHECK_CUDA(cudaMalloc(&d1, bytes));
    std::memset(h, 1, bytes);
    auto rate = [&](cudaMemcpyKind kind, void* dst, const void* src) {
      CHECK_CUDA(cudaMemcpy(dst, src, bytes, kind));  // warm
      CHECK_CUDA(cudaEventRecord(e0));
      for (int i = 0; i < 5; ++i) CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, kind));
      CHECK_CUDA(cudaEventRecord(e1));
      CHECK_CUDA(cudaEventSynchronize(e1));
      float ms = 0;
      CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
      return 5.0 * bytes / (ms * 1e-3) / 1e9;
    };
    std::ostringstream o;
    o << "{\"bytes\": " << bytes << ", \"h2d_GBps\": " << rate(cudaMemcpyHostToDevice, d0, h)
      << ", \"d2h_GBps\": " << rate(cudaMemcpyDeviceToHost, h, d0)
      << ", \"d2d_GBps\": " << rate(cudaMemcpyDeviceToDevice, d1, d0) << "}";
    section("memcpy", o.str());
    CHECK_CUDA(cudaFreeHost(h));
    CHECK_CUDA(cudaFree(d0));
    CHECK_CUDA(cudaFree(d1));
  }

  void memory_bandwidth() {
    size_t free_b = 0, total_b = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
    const size_t bytes = std::min<size_t>(quick ? (256u << 20) : (2048ull << 20), free_b / 4);
    float4 *a, *b;
    float* sink;
    CHECK_CUDA(cudaMalloc(&a, bytes));
    CHECK_CUDA(cudaMalloc(&b, bytes));
    CHECK_CUDA(cudaMalloc(&sink, sizeof(float)));
    CHECK_CUDA(cudaMemset(a, 0, bytes));
    const size_t n = bytes / sizeof(float4);
    const dim3 grid(prop.multiProcessorCount * 8), block(256);
    const Shape cs = shape_of(copy_kernel, grid, block);
    double best = 1e9;
    for (int i = 0; i < 5; ++i)
      best = std::min(best, timed("dram_copy", cs, 0, 7, 0, 2.0 * bytes,
                                  [&] { copy_kernel<<<grid, block>>>(a, b, n); }));
    const double dram = 2.0 * bytes / best / 1e9;
    // L2: re-read a buffer of half the L2 many times.
    const size_t l2_bytes = std::max<size_t>(prop.l2CacheSize / 2, 1 << 20);
    const int reps = 50;
    const Shape rs = shape_of(read_kernel, grid, block);
    read_kernel<<<grid, block>>>(a, l2_bytes / sizeof(float4), 1, sink);  // warm the L2
    double best_l2 = 1e9;
    for (int i = 0; i < 5; ++i)
      // DRAM: the buffer once (compulsory); every further pass is served by L2.
      best_l2 = std::min(best_l2, timed("l2_read", rs, 0, 7, 0, double(l2_bytes), [&] {
        read_kernel<<<grid, block>>>(a, l2_bytes / sizeof(float4), reps, sink);
      }, ",\"l2 bytes\":" + std::to_string((long long)(l2_bytes) * (reps - 1))));
    const double l2 = double(l2_bytes) * reps / best_l2 / 1e9;
    std::ostringstream o;
    o << "{\"dram_GBps\": " << dram << ", \"l2_GBps\": " << l2 << ", \"buffer_bytes\": " << bytes
      << ", \"l2_buffer_bytes\": " << l2_bytes << "}";
    section("memory", o.str());
    CHECK_CUDA(cudaFree(a));
    CHECK_CUDA(cudaFree(b));
    CHECK_CUDA(cudaFree(sink));
  }

  void gemms() {
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
      section("gemm", "[]");
      return;
    }
    struct Kind {
      const char* name;
      cudaDataType_t type;
      cublasComputeType_t compute;
      int size;
    };
    const Kind kinds[] = {{"fp32", CUDA_R_32F, CUBLAS_COMPUTE_32F, 4},
                          {"tf32", CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4},
                          {"fp16", CUDA_R_16F, CUBLAS_COMPUTE_32F, 2},
                          {"bf16", CUDA_R_16BF, CUBLAS_COMPUTE_32F, 2}};
    std::vector<int> sizes = quick ? std::vector<int>{1024, 4096} : std::vector<int>{256, 512, 1024, 2048, 4096, 8192};
    size_t free_b = 0, total_b = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
    std::ostringstream o;
    o << "[";
    bool first = true;
    for (const Kind& k : kinds)
      for (int n : sizes) {
        const size_t bytes = size_t(n) * n * k.size;
        if (3 * bytes > free_b / 2) continue;
        void *a, *b, *c;
        CHECK_CUDA(cudaMalloc(&a, bytes));
        CHECK_CUDA(cudaMalloc(&b, bytes));
        CHECK_CUDA(cudaMalloc(&c, bytes));
        CHECK_CUDA(cudaMemset(a, 0, bytes));
        CHECK_CUDA(cudaMemset(b, 0, bytes));
        const float alpha = 1, beta = 0;
        auto run = [&] {
          cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, k.type, n, b, k.type, n,
                       &beta, c, k.type, n, k.compute, CUBLAS_GEMM_DEFAULT);
        };
        run();
        const double flops = 2.0 * n * n * n;
        // cuBLAS picks its own kernel: its launch shape is not visible without CUPTI, so the
        // trace records the problem (m, n, k, dtype, "problem flops") but no flops/bytes that a
        // reader would price as a one-CTA kernel.
        const Shape s{dim3(1), dim3(1), 0, 0};
        double best = 1e9;
        for (int i = 0; i < 3; ++i)
          best = std::min(best, timed(std::string("cublas_gemm_") + k.name + "_" + std::to_string(n), s, 0, 7,
                                      -1, -1, run,
                                      std::string(",\"problem flops\":") + std::to_string(flops) +
                                          ",\"problem bytes\":" + std::to_string(3.0 * bytes) +
                                          ",\"dtype\":\"" + k.name + "\",\"m\":" + std::to_string(n) +
                                          ",\"n\":" + std::to_string(n) + ",\"k\":" + std::to_string(n)));
        o << (first ? "" : ", ") << "{\"dtype\": \"" << k.name << "\", \"m\": " << n << ", \"n\": " << n
          << ", \"k\": " << n << ", \"seconds\": " << best << ", \"tflops\": " << flops / best / 1e12 << "}";
        first = false;
        CHECK_CUDA(cudaFree(a));
        CHECK_CUDA(cudaFree(b));
        CHECK_CUDA(cudaFree(c));
      }
    o << "]";
    section("gemm", o.str());
    cublasDestroy(h);
  }

  void elementwise_and_reduction() {
    size_t free_b = 0, total_b = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
    const size_t max_n = std::min<size_t>(size_t(1) << (quick ? 24 : 28), free_b / 16 / sizeof(float));
    float *a, *b, *c, *out;
    CHECK_CUDA(cudaMalloc(&a, max_n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&b, max_n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&c, max_n * sizeof(float)));
    CHECK_CUDA(cudaMalloc(&out, sizeof(float)));
    std::ostringstream ew, red;
    ew << "[";
    red << "[";
    bool first = true;
    for (size_t n = 1 << 10; n <= max_n; n <<= 2) {
      const dim3 block(256);
      const dim3 grid(unsigned(std::min<size_t>((n + 255) / 256, size_t(prop.multiProcessorCount) * 8)));
      const double t_add = timed("elementwise_add", shape_of(add_kernel, grid, block), 0, 7, double(n),
                                 12.0 * n, [&] { add_kernel<<<grid, block>>>(a, b, c, n); });
      const double t_sum = timed("reduce_sum", shape_of(sum_kernel, grid, block), 0, 7, double(n),
                                 4.0 * n, [&] { sum_kernel<<<grid, block>>>(a, n, out); });
      ew << (first ? "" : ", ") << "{\"elements\": " << n << ", \"seconds\": " << t_add << "}";
      red << (first ? "" : ", ") << "{\"elements\": " << n << ", \"seconds\": " << t_sum << "}";
      first = false;
    }
    ew << "]";
    red << "]";
    section("elementwise", ew.str());
    section("reduction", red.str());
    for (float* p : {a, b, c, out}) CHECK_CUDA(cudaFree(p));
  }

  // N streams, each running one spin kernel of one CTA per SM / N: concurrency shows as a
  // total time that stays flat with N.
  void stream_concurrency() {
    const long long cycles = 200000;
    std::ostringstream o;
    o << "[";
    bool first = true;
    for (int n : {1, 2, 4, 8, 16, 32}) {
      std::vector<cudaStream_t> s(n);
      for (auto& x : s) CHECK_CUDA(cudaStreamCreateWithFlags(&x, cudaStreamNonBlocking));
      CHECK_CUDA(cudaDeviceSynchronize());
      CHECK_CUDA(cudaEventRecord(e0));
      for (auto& x : s) CHECK_CUDA(cudaStreamWaitEvent(x, e0));
      for (auto& x : s) spin_kernel<<<1, 64, 0, x>>>(cycles);
      for (auto& x : s) {
        cudaEvent_t done;
        CHECK_CUDA(cudaEventCreate(&done));
        CHECK_CUDA(cudaEventRecord(done, x));
        CHECK_CUDA(cudaStreamWaitEvent(0, done));
        CHECK_CUDA(cudaEventDestroy(done));
      }
      CHECK_CUDA(cudaEventRecord(e1));
      CHECK_CUDA(cudaEventSynchronize(e1));
      float ms = 0;
      CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
      o << (first ? "" : ", ") << "{\"streams\": " << n << ", \"seconds\": " << ms * 1e-3 << "}";
      first = false;
      for (auto& x : s) CHECK_CUDA(cudaStreamDestroy(x));
    }
    o << "]";
    section("streams", o.str());
  }

  // Green contexts: a spin grid of 4 CTAs per SM of the device, run on SM subsets of growing
  // size; time vs SM count shows the waves the subset forces.
  void green_contexts() {
#if CUDA_VERSION >= 12040
    CUdevice dev;
    if (cuDeviceGet(&dev, device) != CUDA_SUCCESS) {
      section("green_contexts", "[]");
      return;
    }
    CUdevResource all;
    if (cuDeviceGetDevResource(dev, &all, CU_DEV_RESOURCE_TYPE_SM) != CUDA_SUCCESS) {
      section("green_contexts", "[]");
      return;
    }
    std::ostringstream o;
    o << "[";
    bool first = true;
    const unsigned total = all.sm.smCount;
    for (unsigned want : {8u, 16u, 32u, 64u, total}) {
      if (want > total) continue;
      CUdevResource part, rest;
      unsigned groups = 1;
      if (cuDevSmResourceSplitByCount(&part, &groups, &all, &rest, 0, want) != CUDA_SUCCESS || groups < 1)
        continue;
      CUdevResourceDesc desc;
      CUgreenCtx g;
      CUstream s;
      if (cuDevResourceGenerateDesc(&desc, &part, 1) != CUDA_SUCCESS ||
          cuGreenCtxCreate(&g, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM) != CUDA_SUCCESS)
        continue;
      if (cuGreenCtxStreamCreate(&s, g, CU_STREAM_NON_BLOCKING, 0) != CUDA_SUCCESS) {
        cuGreenCtxDestroy(g);
        continue;
      }
      const dim3 grid(total * 4), block(64);
      const double sec = timed("spin_green_" + std::to_string(part.sm.smCount), shape_of(spin_kernel, grid, block),
                               reinterpret_cast<cudaStream_t>(s), 100 + part.sm.smCount, 0, 0,
                               [&] { spin_kernel<<<grid, block, 0, reinterpret_cast<cudaStream_t>(s)>>>(100000); });
      o << (first ? "" : ", ") << "{\"sms\": " << part.sm.smCount << ", \"seconds\": " << sec << "}";
      first = false;
      cuStreamDestroy(s);
      cuGreenCtxDestroy(g);
    }
    o << "]";
    section("green_contexts", o.str());
#else
    section("green_contexts", "[]");
#endif
  }

  // Unified memory: first-touch fault cost and prefetch bandwidth, within a quarter of the
  // free device memory (never oversubscribed).
  void unified_memory() {
    int managed = 0;
    CHECK_CUDA(cudaDeviceGetAttribute(&managed, cudaDevAttrConcurrentManagedAccess, device));
    if (!managed) {
      section("uvm", "null");
      return;
    }
    size_t free_b = 0, total_b = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_b, &total_b));
    const size_t bytes = std::min<size_t>(quick ? (64u << 20) : (1024u << 20), free_b / 4);
    char* p;
    CHECK_CUDA(cudaMallocManaged(&p, bytes));
    std::memset(p, 0, bytes);  // pages live on the host now
    const dim3 grid(prop.multiProcessorCount * 4), block(256);
    const size_t page = 4096;
    const double touch = timed("uvm_first_touch", shape_of(touch_kernel, grid, block), 0, 7, 0, double(bytes),
                               [&] { touch_kernel<<<grid, block>>>(p, bytes, page); });
    char* q;
    CHECK_CUDA(cudaMallocManaged(&q, bytes));
    std::memset(q, 0, bytes);
    CHECK_CUDA(cudaEventRecord(e0));
#if CUDART_VERSION >= 13000
    cudaMemLocation loc{};
    loc.type = cudaMemLocationTypeDevice;
    loc.id = device;
    CHECK_CUDA(cudaMemPrefetchAsync(q, bytes, loc, 0, 0));
#else
    CHECK_CUDA(cudaMemPrefetchAsync(q, bytes, device, 0));
#endif
    CHECK_CUDA(cudaEventRecord(e1));
    CHECK_CUDA(cudaEventSynchronize(e1));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    std::ostringstream o;
    o << "{\"bytes\": " << bytes << ", \"first_touch_seconds\": " << touch
      << ", \"first_touch_us_per_4k_page\": " << touch * 1e6 / (bytes / page)
      << ", \"prefetch_GBps\": " << bytes / (ms * 1e-3) / 1e9 << "}";
    section("uvm", o.str());
    CHECK_CUDA(cudaFree(p));
    CHECK_CUDA(cudaFree(q));
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string out = ".";
  Probe probe;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (a == "--quick") {
      probe.quick = true;
    } else {
      std::fprintf(stderr, "usage: warpsim-probe [--out DIR] [--quick]\n");
      return 2;
    }
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "warpsim-probe: no CUDA device\n");
    return 1;
  }
  CHECK_CUDA(cudaSetDevice(probe.device));
  CHECK_CUDA(cudaGetDeviceProperties(&probe.prop, probe.device));
  CHECK_CUDA(cudaEventCreate(&probe.e0));
  CHECK_CUDA(cudaEventCreate(&probe.e1));
  probe.trace.begin(probe.device);
  probe.params.precision(9);
  probe.section("gpu", json_str(probe.prop.name));
  probe.section("sm_count", std::to_string(probe.prop.multiProcessorCount));
  probe.section("compute_capability", json_str(std::to_string(probe.prop.major) + "." + std::to_string(probe.prop.minor)));
  probe.launch_overheads();
  probe.memcpy_bandwidth();
  probe.memory_bandwidth();
  probe.gemms();
  probe.elementwise_and_reduction();
  probe.stream_concurrency();
  probe.green_contexts();
  probe.unified_memory();
  probe.trace.write(out + "/probe_trace.json", probe.prop);
  std::ofstream(out + "/probe.json") << "{\n" << probe.params.str() << "\n}\n";
  std::printf("warpsim-probe: wrote %s/probe.json and %s/probe_trace.json\n", out.c_str(), out.c_str());
  return 0;
}
