// The Kineto reader and the replay builder, on the real traces in tests/data/kineto (measured
// by a third party, see LICENSE there) and on small hand-made ones, broken on purpose.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "sim/error.hpp"
#include "workloads/kineto_trace.hpp"
#include "workloads/replay_workload.hpp"
#include "workloads/trace_op_work.hpp"

namespace {

namespace fs = std::filesystem;
using namespace workloads;
using namespace workloads::kineto;

fs::path data(const std::string& name) {
  const char* root = std::getenv("WARPSIM_SOURCE_ROOT");
  return fs::path(root ? root : ".") / "tests" / "data" / "kineto" / name;
}

std::string error_of(const std::string& name) {
  try {
    read_trace(data(name));
  } catch (const sim::InputError& e) {
    return e.what();
  }
  return "";
}

std::int64_t note(const ReplayWorkload& w, const std::string& key) {
  auto it = w.notes.find(key);
  return it == w.notes.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("kineto: counts on the shared A100 and V100 traces") {
  struct Expect {
    const char* file;
    std::size_t kernels, device_ops;
    std::vector<std::int64_t> streams;
    std::size_t iterations, nccl;
    const char* gpu;
    int sms;
  };
  const Expect cases[] = {
      {"a100_alexnet_train.json.gz", 79, 98, {7, 20}, 0, 0, "NVIDIA A100-PG509-200", 108},
      {"a100_simple_add.json.gz", 79, 98, {7, 20}, 0, 0, "NVIDIA A100-PG509-200", 108},
      {"a100_resnet_ddp2_rank0.json.gz", 2700, 3774, {7, 40}, 3, 21, "NVIDIA A100-PG509-200", 108},
      {"v100_dlrm_rank1.json.gz", 9876, 15632, {7, 14, 15, 16}, 6, 64, "Tesla V100-SXM2-16GB", 80},
  };
  for (const Expect& x : cases) {
    CAPTURE(x.file);
    const Trace t = read_trace(data(x.file));
    CHECK(t.kernels() == x.kernels);
    CHECK(t.device_ops.size() == x.device_ops);
    CHECK(t.streams() == x.streams);
    CHECK(t.iterations.size() == x.iterations);
    CHECK(t.nccl_kernels() == x.nccl);
    REQUIRE(!t.devices.empty());
    CHECK(t.devices[0].name == x.gpu);
    CHECK(t.devices[0].sm_count == x.sms);
    for (const DeviceOp& d : t.device_ops) {
      CHECK(d.dur >= 0);
      if (d.kind == DeviceOp::Kind::kernel) CHECK(d.grid.count() >= 1);
    }

    const ReplayWorkload w = build_replay(t);
    CHECK(w.ops.size() == x.device_ops);
    CHECK(w.stream_ids == x.streams);
    std::size_t launches = 0;
    for (const HostStep& s : w.host) launches += s.kind == HostStep::Kind::launch;
    CHECK(launches == w.ops.size());  // every op is issued exactly once
  }
}

TEST_CASE("kineto: NCCL kernels carry their collective, size, dtype and group") {
  const Trace t = read_trace(data("a100_resnet_ddp2_rank0.json.gz"));
  int allreduce = 0, broadcast = 0;
  for (const DeviceOp& d : t.device_ops) {
    if (!d.nccl) continue;
    CHECK(d.stream == 40);
    CHECK(d.collective.group_size == 2);
    CHECK((d.collective.dtype == "Float" || d.collective.dtype == "Long"));
    CHECK(d.collective.bytes == nccl_dtype_size(d.collective.dtype) * d.collective.in_elements);
    CHECK(d.collective.bytes > 0);
    allreduce += d.collective.name == "allreduce";
    broadcast += d.collective.name == "broadcast";
  }
  CHECK(allreduce + broadcast == 21);
  CHECK(allreduce > 0);
  CHECK(broadcast > 0);
}

TEST_CASE("kineto: a small trace, every part read and replayed") {
  const Trace t = read_trace(data("mini.json"));
  CHECK(t.kernels() == 4);
  CHECK(t.runtime.size() == 6);
  CHECK(t.cpu_ops.size() == 1);
  CHECK(t.cpu_ops[0].input_dims == std::vector<std::vector<std::int64_t>>{{256, 512}, {512, 1024}});
  CHECK(t.iterations.size() == 1);
  CHECK(t.warnings.at("device work without its launch in the trace") == 1);
  CHECK(t.warnings.at("unknown event category 'mystery'") == 1);
  const DeviceOp& nccl = t.device_ops[1];
  CHECK(nccl.nccl);
  CHECK(nccl.collective.bytes == 4096);
  CHECK(nccl.launch == 3);  // the second cudaLaunchKernel

  const ReplayWorkload w = build_replay(t);
  REQUIRE(w.ops.size() == 4);
  CHECK(w.ops[0].kernel_class == "gemm_kernel<float>");
  CHECK(w.ops[0].work_known);  // aten::mm shapes: 2*M*N*K
  CHECK(w.kernels[0].flops == doctest::Approx(2.0 * 256 * 1024 * 512));
  CHECK(!w.ops[1].work_known);  // NCCL: not a kernel-model question
  CHECK(w.ops[0].iteration == 0);
  CHECK(w.ops[3].iteration == 0);  // the orphan started inside the step
  CHECK(w.kernels[1].measured_seconds == doctest::Approx(30e-6));

  using K = HostStep::Kind;
  std::vector<K> kinds;
  for (const HostStep& s : w.host)
    if (s.kind != K::gap) kinds.push_back(s.kind);
  CHECK(kinds == std::vector<K>{K::launch, K::record, K::wait, K::launch, K::launch, K::synchronize,
                                K::launch});
  // The record is on the stream the thread launched on last (7 -> 0), the wait on the stream
  // it launched on next (20 -> 1).
  const HostStep* rec = nullptr;
  const HostStep* wait = nullptr;
  for (const HostStep& s : w.host) {
    if (s.kind == K::record) rec = &s;
    if (s.kind == K::wait) wait = &s;
  }
  REQUIRE(rec);
  REQUIRE(wait);
  CHECK(rec->stream == 0);
  CHECK(wait->stream == 1);
  CHECK(wait->event == rec->event);
  // Host gaps add up to the measured issue times, less the synchronization's wait (the model
  // decides that): from the first call at ts 2 to the orphan at 120, less the sync's 60 us.
  double host_time = 0;
  for (const HostStep& s : w.host) host_time += s.seconds;
  CHECK(host_time == doctest::Approx(58e-6));
  CHECK(note(w, "device ops without a launch, issued when they started") == 1);
}

TEST_CASE("kineto: broken traces are clear errors naming the file and the place") {
  const std::string truncated = error_of("broken_truncated.json.gz");
  CHECK(truncated.find("broken_truncated.json.gz") != std::string::npos);
  CHECK(truncated.find("truncated gzip") != std::string::npos);

  const std::string invalid = error_of("broken_invalid.json");
  CHECK(invalid.find("broken_invalid.json:3:") != std::string::npos);
  CHECK(invalid.find("invalid JSON") != std::string::npos);

  const std::string negative = error_of("broken_negative_dur.json");
  CHECK(negative.find("traceEvents[1]") != std::string::npos);
  CHECK(negative.find("negative duration") != std::string::npos);

  const std::string missing = error_of("broken_missing_ts.json");
  CHECK(missing.find("traceEvents[1]") != std::string::npos);
  CHECK(missing.find("missing 'ts'") != std::string::npos);

  CHECK(error_of("no_such_trace.json").find("cannot open") != std::string::npos);
  CHECK_THROWS_AS(parse_trace("[1, 2]", "x.json"), sim::InputError);
  CHECK_THROWS_AS(parse_trace("{\"traceEvents\": 3}", "x.json"), sim::InputError);
  CHECK_THROWS_AS(parse_trace("{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": "
                              "\"k\", \"ts\": 1, \"dur\": 1, \"args\": {\"stream\": 7, \"grid\": "
                              "[0, 1, 1]}}]}",
                              "x.json"),
                  sim::InputError);
  // Absurd times: a duration over a day, timestamps a lifetime apart.
  CHECK_THROWS_AS(parse_trace("{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": "
                              "\"k\", \"ts\": 1, \"dur\": 1e300, \"args\": {\"stream\": 7}}]}",
                              "x.json"),
                  sim::InputError);
  CHECK_THROWS_AS(build_replay(parse_trace(
                      "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", "
                      "\"ts\": -1e300, \"dur\": 1, \"args\": {\"stream\": 7}}, {\"ph\": \"X\", "
                      "\"cat\": \"kernel\", \"name\": \"k\", \"ts\": 1e300, \"dur\": 1, \"args\": "
                      "{\"stream\": 7}}]}",
                      "x.json")),
                  sim::InputError);
  // A trace without device work cannot be replayed.
  CHECK_THROWS_AS(build_replay(parse_trace("{\"traceEvents\": []}", "empty.json")),
                  sim::InputError);
  // Text that is not JSON at all, and text cut in the middle of a string.
  CHECK_THROWS_AS(parse_trace("not json", "x.json"), sim::InputError);
  CHECK_THROWS_AS(parse_trace("{\"traceEvents\": [{\"ph\": \"X", "x.json"), sim::InputError);
}

TEST_CASE("kernel_class drops the return type and the argument list, keeps templates") {
  CHECK(kernel_class(
            "void at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>, "
            "at::detail::Array<char*, 3> >(int, float)") ==
        "at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>, "
        "at::detail::Array<char*, 3> >");
  CHECK(kernel_class("Memcpy HtoD (Pageable -> Device)") == "Memcpy HtoD (Pageable -> Device)");
  CHECK(kernel_class("ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*)") ==
        "ncclKernel_AllReduce_RING_LL_Sum_float");
}

TEST_CASE("kineto: a trace in warpsim-probe's format carries each kernel's work") {
  const char* root = std::getenv("WARPSIM_SOURCE_ROOT");
  const Trace t =
      read_trace(fs::path(root ? root : ".") / "tests/data/probe/probe_trace_handmade.json");
  REQUIRE(t.kernels() == 4);
  CHECK(t.device_ops[1].flops == 16777216);
  CHECK(t.device_ops[1].bytes == 201326592);
  CHECK(t.device_ops[2].l2_bytes == 1284505600);
  const ReplayWorkload w = build_replay(t);
  CHECK(w.ops[0].work_known);
  CHECK(w.kernels[0].dram_bytes == 4294967296.0);
  CHECK(w.kernels[2].l2_bytes == 1284505600.0);
  // cuBLAS launch shapes are not visible to the probe: its GEMMs carry the problem only, and
  // are not priced as a one-CTA kernel.
  CHECK(!w.ops[3].work_known);
}

TEST_CASE("kineto: a kernel's math unit (warpsim timelines) decides its units") {
  auto kernel = [](const std::string& unit) {
    return "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", "
           "\"ts\": 1, \"dur\": 2, \"args\": {\"stream\": 7, \"flops\": 1e9, \"bytes\": "
           "4096, \"dtype\": \"fp16\", \"math unit\": \"" +
           unit + "\"}}]}";
  };
  // fp16 on the CUDA cores (an elementwise kernel), and fp16 where the trace does not say.
  const ReplayWorkload simt = build_replay(parse_trace(kernel("fp32_core"), "x.json"));
  CHECK(simt.kernels[0].unit == workloads::MathUnit::fp32_core);
  CHECK(simt.kernels[0].dtype == workloads::DType::fp16);
  const ReplayWorkload tc = build_replay(parse_trace(kernel("tensor_core"), "x.json"));
  CHECK(tc.kernels[0].unit == workloads::MathUnit::tensor_core);
  try {
    parse_trace(kernel("tensorcore"), "x.json");
    FAIL("a misspelt math unit was accepted");
  } catch (const sim::InputError& e) {
    CHECK(std::string(e.what()).find("traceEvents[0]") != std::string::npos);
    CHECK(std::string(e.what()).find("'math unit' is 'tensorcore'") != std::string::npos);
  }
}

TEST_CASE("a CPU op's shapes give its kernel's work only when the kernel is of the op's kind") {
  kineto::CpuOp mm;
  mm.name = "aten::mm";
  mm.input_dims = {{1024, 1024}, {1024, 512}};
  mm.input_types = {"float", "float"};
  kineto::DeviceOp gemm;
  gemm.name = "volta_sgemm_128x64_nn";
  const auto w = workloads::traced_work(gemm, &mm, 1);
  REQUIRE(w.has_value());
  CHECK(w->flops == 2.0 * 1024 * 1024 * 512);
  CHECK(w->dram_bytes == (1024.0 * 1024 + 1024.0 * 512 + 1024.0 * 512) * 4);
  // The one kernel under an aten::mm is a fill (a product PyTorch short-cuts): no GEMM work,
  // only the fill's own, from its launch geometry (4 blocks of 512 elements, one operand).
  kineto::DeviceOp fill;
  fill.name =
      "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, "
      "at::detail::Array<char*, 1> >(int, at::native::FillFunctor<float>, "
      "at::detail::Array<char*, 1>)";
  fill.grid = {4, 1, 1};
  fill.block = {128, 1, 1};
  const auto f = workloads::traced_work(fill, &mm, 1);
  REQUIRE(f.has_value());
  CHECK(f->source == "elementwise launch geometry");
  CHECK(f->dram_bytes == 4.0 * 512 * 4);
  // And a pointwise op's shapes do not price a GEMM kernel.
  kineto::CpuOp add;
  add.name = "aten::add";
  add.input_dims = {{1024, 1024}, {1024, 1024}, {}};
  add.input_types = {"float", "float", "Scalar"};
  CHECK_FALSE(workloads::traced_work(gemm, &add, 1).has_value());
  const auto pw = workloads::traced_work(fill, &add, 1);
  REQUIRE(pw.has_value());
  CHECK(pw->dram_bytes == 3.0 * 1024 * 1024 * 4);
}

TEST_CASE("work without shapes: PyTorch elementwise launch geometry, host copies, TF32, families") {
  // vectorized: 128 threads x 4 elements a block; Array<char*, 3>: two inputs and the output.
  kineto::DeviceOp add;
  add.name =
      "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::Half>, "
      "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<c10::Half>, "
      "at::detail::Array<char*, 3>)";
  add.grid = {100, 1, 1};
  add.block = {128, 1, 1};
  auto w = workloads::traced_work(add, nullptr, 0);
  REQUIRE(w.has_value());
  CHECK(w->dram_bytes == 100.0 * 512 * 3 * 2);
  CHECK(w->dtype == workloads::DType::fp16);
  CHECK(workloads::op_family(add) == "elementwise");
  // legacy elementwise_kernel<nt, vt>: nt x vt a block; a unary lambda: input and output.
  kineto::DeviceOp copy;
  copy.name =
      "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl<at::native::("
      "anonymous namespace)::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#2}::"
      "operator()() const::{lambda()#14}::operator()() const::{lambda(float)#1}>(at::"
      "TensorIteratorBase&, at::native::(anonymous namespace)::direct_copy_kernel_cuda(at::"
      "TensorIteratorBase&)::{lambda()#2}::operator()() const::{lambda()#14}::operator()() const::"
      "{lambda(float)#1} const&)::{lambda(int)#1}>(int, at::native::gpu_kernel_impl<at::native::("
      "anonymous namespace)::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#2}::"
      "operator()() const::{lambda()#14}::operator()() const::{lambda(float)#1}>(at::"
      "TensorIteratorBase&, at::native::(anonymous namespace)::direct_copy_kernel_cuda(at::"
      "TensorIteratorBase&)::{lambda()#2}::operator()() const::{lambda()#14}::operator()() const::"
      "{lambda(float)#1} const&)::{lambda(int)#1})";
  copy.grid = {10, 1, 1};
  copy.block = {128, 1, 1};
  w = workloads::traced_work(copy, nullptr, 0);
  REQUIRE(w.has_value());
  CHECK(w->dram_bytes == 10.0 * 256 * 2 * 4);
  // A kernel the rules do not know: nothing.
  kineto::DeviceOp conv;
  conv.name = "sm80_xmma_fprop_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw";
  conv.grid = {10, 1, 1};
  conv.block = {128, 1, 1};
  CHECK_FALSE(workloads::traced_work(conv, nullptr, 0).has_value());
  CHECK(workloads::op_family(conv) == "conv");
  // Pinned host copies go over the host link; pageable ones are staged by the host: unknown.
  kineto::DeviceOp h2d;
  h2d.kind = kineto::DeviceOp::Kind::memcpy;
  h2d.name = "Memcpy HtoD (Pinned -> Device)";
  h2d.bytes = 1 << 20;
  w = workloads::traced_work(h2d, nullptr, 0);
  REQUIRE(w.has_value());
  CHECK(w->host_bytes == 1 << 20);
  CHECK(w->dram_bytes == 0);
  h2d.name = "Memcpy HtoD (Pageable -> Device)";
  CHECK_FALSE(workloads::traced_work(h2d, nullptr, 0).has_value());
  CHECK(workloads::op_family(h2d) == "memcpy");
  // An fp32 product on a TF32 tensor-core kernel is priced as TF32.
  kineto::CpuOp mm;
  mm.name = "aten::mm";
  mm.input_dims = {{1024, 1024}, {1024, 512}};
  mm.input_types = {"float", "float"};
  kineto::DeviceOp tf32;
  tf32.name = "void cutlass::Kernel<cutlass_80_tensorop_s1688gemm_256x64_16x4_tn_align4>(Params)";
  w = workloads::traced_work(tf32, &mm, 1);
  REQUIRE(w.has_value());
  CHECK(w->unit == workloads::MathUnit::tensor_core);
  CHECK(w->dtype == workloads::DType::tf32);
  tf32.name = "volta_sgemm_128x64_nn";
  CHECK(workloads::traced_work(tf32, &mm, 1)->unit == workloads::MathUnit::fp32_core);
}

TEST_CASE("convolutions and batch norms from the op's shapes and concrete inputs") {
  // A profiler record of aten::convolution with its scalar arguments (PyTorch >= 2.1).
  const auto t = kineto::parse_trace(R"({"traceEvents": [
    {"ph": "X", "cat": "cpu_op", "name": "aten::convolution", "pid": 1, "tid": 1, "ts": 0,
     "dur": 10, "args": {"Input Dims": [[32, 3, 224, 224], [64, 3, 7, 7], [], [], [], [], [], [], []],
       "Input type": ["float", "float", "", "ScalarList", "ScalarList", "ScalarList", "Scalar",
                      "ScalarList", "Scalar"],
       "Concrete Inputs": ["", "", "", "[2, 2]", "[3, 3]", "[1, 1]", "False", "[0, 0]", 1]}}]})",
                                     "conv.json");
  REQUIRE(t.cpu_ops.size() == 1);
  const kineto::CpuOp& conv = t.cpu_ops[0];
  REQUIRE(conv.concrete_inputs.size() == 9);
  CHECK(conv.concrete_inputs[3] == "[2, 2]");
  CHECK(conv.concrete_inputs[8].empty());  // a number where a string was expected: unknown
  kineto::DeviceOp fprop;
  fprop.name = "sm80_xmma_fprop_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw";
  const double flops = 2.0 * 32 * 64 * 112 * 112 * 3 * 7 * 7;  // P = Q = (224 + 6 - 7) / 2 + 1
  auto w = workloads::traced_work(fprop, &conv, 1);
  REQUIRE(w.has_value());
  CHECK(w->flops == flops);
  CHECK(w->dram_bytes == (32.0 * 3 * 224 * 224 + 64.0 * 3 * 49 + 32.0 * 64 * 112 * 112) * 4);
  CHECK(w->dtype == workloads::DType::tf32);
  CHECK(w->source == "aten::convolution shapes, TF32 from the kernel");
  // Without the concrete inputs the output size is unknown; with two conv kernels under one
  // forward op (an FFT convolution) neither is priced.
  kineto::CpuOp bare = conv;
  bare.concrete_inputs.clear();
  CHECK_FALSE(workloads::traced_work(fprop, &bare, 1).has_value());
  CHECK_FALSE(workloads::traced_work(fprop, &conv, 2).has_value());
  // The backward's two kernels: the grad_output gives P x Q, the names say which gradient.
  kineto::CpuOp back;
  back.name = "aten::convolution_backward";
  back.input_dims = {{32, 64, 112, 112}, {32, 3, 224, 224}, {64, 3, 7, 7}, {}, {}, {}, {}, {}, {}, {}, {}};
  back.input_types = {"float", "float", "float"};
  kineto::DeviceOp dgrad, wgrad, other;
  dgrad.name = "sm80_xmma_dgrad_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw";
  wgrad.name = "sm80_xmma_wgrad_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw";
  other.name = "cudnn::ops::scalePackedTensor_kernel_conv";
  REQUIRE(workloads::traced_work(dgrad, &back, 2).has_value());
  CHECK(workloads::traced_work(dgrad, &back, 2)->flops == flops);
  CHECK(workloads::traced_work(wgrad, &back, 2)->flops == flops);
  CHECK_FALSE(workloads::traced_work(other, &back, 2).has_value());
  // Batch norm in training: the input read twice and the output written.
  kineto::CpuOp bn;
  bn.name = "aten::cudnn_batch_norm";
  bn.input_dims = {{32, 64, 112, 112}, {64}, {64}, {64}, {64}, {}, {}, {}};
  bn.input_types = {"c10::Half", "float", "float", "float", "float", "Scalar", "Scalar", "Scalar"};
  bn.concrete_inputs = {"", "", "", "", "", "True", "0.1", "1e-05"};
  kineto::DeviceOp bn_kernel;
  bn_kernel.name = "void cudnn::bn_fw_tr_1C11_kernel_NCHW<__half, float, int, 512, true, 1>";
  w = workloads::traced_work(bn_kernel, &bn, 1);
  REQUIRE(w.has_value());
  CHECK(w->dram_bytes == 3.0 * 32 * 64 * 112 * 112 * 2);
  CHECK(workloads::op_family(bn_kernel) == "norm");
}
