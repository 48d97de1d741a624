#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/error.hpp"
#include "workloads/graph_builder.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/training_step.hpp"

using namespace workloads;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

OpId op_named(const OpGraph& g, const std::string& name) {
  const auto id = g.find_op(name);
  REQUIRE_MESSAGE(id, "no op " << name);
  return *id;
}

// Launch limits every GPU since Volta accepts, and sane work figures.
void check_launchable(const TaskGraph& tg) {
  for (const KernelDesc& k : tg.kernels) {
    CAPTURE(k.name);
    CHECK(k.block.x >= 1);
    CHECK(k.block.y >= 1);
    CHECK(k.block.z >= 1);
    CHECK(k.threads_per_cta() <= 1024);
    CHECK(k.grid.x >= 1);
    CHECK(k.grid.y >= 1);
    CHECK(k.grid.z >= 1);
    CHECK(k.grid.y <= 65535);
    CHECK(k.grid.z <= 65535);
    CHECK(k.shared_mem_per_cta >= 0);
    CHECK(k.shared_mem_per_cta <= 227 * 1024);
    CHECK(k.registers_per_thread >= 16);
    CHECK(k.registers_per_thread <= 255);
    CHECK(k.registers_per_thread * k.threads_per_cta() <= 65536);
    CHECK(k.flops >= 0);
    CHECK(k.dram_bytes > 0);
    CHECK(k.l2_bytes >= 0);
    CHECK(!k.name.empty());
  }
}

double kernel_flops_of_kinds(const TaskGraph& tg, const OpGraph& g,
                             std::initializer_list<OpKind> kinds) {
  double f = 0;
  for (const KernelDesc& k : tg.kernels)
    if (std::find(kinds.begin(), kinds.end(), g.op(k.op).kind) != kinds.end()) f += k.flops;
  return f;
}

double op_flops_of_kinds(const OpGraph& g, std::initializer_list<OpKind> kinds) {
  double f = 0;
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i)
    if (std::find(kinds.begin(), kinds.end(), g.op(i).kind) != kinds.end())
      f += static_cast<double>(g.flops(i));
  return f;
}

double total_kernel_flops(const TaskGraph& tg) {
  double f = 0;
  for (const KernelDesc& k : tg.kernels) f += k.flops;
  return f;
}

// The TaskGraph is consistent with the op graph: kernels in a topological order, each op's
// kernels contiguous and chained, and every op dependency reachable from the op's first kernel
// (through ops without kernels).
void check_task_graph(const TaskGraph& tg, const OpGraph& g) {
  const std::size_t n = tg.kernels.size();
  REQUIRE(tg.deps.size() == n);
  REQUIRE(tg.first_kernel_of_op.size() == g.op_count());
  CHECK(tg.ops == g.op_count());
  for (std::size_t k = 0; k < n; ++k) {
    CHECK(tg.kernels[k].op >= 0);  // every lowered kernel implements an op
    CHECK(tg.kernels[k].op < static_cast<OpId>(g.op_count()));
    for (std::int32_t d : tg.deps[k]) CHECK(d < static_cast<std::int32_t>(k));  // acyclic
  }
  // Ancestors of each kernel, as bitsets.
  const std::size_t words = (n + 63) / 64;
  std::vector<std::uint64_t> anc(n * words, 0);
  auto set = [&](std::size_t k, std::size_t a) { anc[k * words + a / 64] |= 1ULL << (a % 64); };
  auto has = [&](std::size_t k, std::size_t a) {
    return (anc[k * words + a / 64] >> (a % 64)) & 1ULL;
  };
  for (std::size_t k = 0; k < n; ++k)
    for (std::int32_t d : tg.deps[k]) {
      const auto du = static_cast<std::size_t>(d);
      set(k, du);
      for (std::size_t w = 0; w < words; ++w) anc[k * words + w] |= anc[du * words + w];
    }
  // Last kernel of each op, and kernels contiguous + chained.
  std::vector<std::int32_t> last(g.op_count(), -1);
  for (std::size_t k = 0; k < n; ++k)
    last[static_cast<std::size_t>(tg.kernels[k].op)] = static_cast<std::int32_t>(k);
  for (OpId o = 0; o < static_cast<OpId>(g.op_count()); ++o) {
    const std::int32_t f = tg.first_kernel_of_op[static_cast<std::size_t>(o)];
    if (f < 0) {
      CHECK(last[static_cast<std::size_t>(o)] == -1);
      continue;
    }
    CHECK(tg.kernels[static_cast<std::size_t>(f)].op == o);
    for (std::int32_t k = f + 1; k <= last[static_cast<std::size_t>(o)]; ++k) {
      CHECK(tg.kernels[static_cast<std::size_t>(k)].op == o);
      CHECK(tg.deps[static_cast<std::size_t>(k)] == std::vector<std::int32_t>{k - 1});
    }
  }
  // Every dep is respected: the dep's last kernel (or, for a dep without kernels, those of its
  // own deps, recursively) precedes the op's first kernel.
  for (OpId o = 0; o < static_cast<OpId>(g.op_count()); ++o) {
    const std::int32_t f = tg.first_kernel_of_op[static_cast<std::size_t>(o)];
    if (f < 0) continue;
    std::vector<OpId> todo(g.op(o).deps.begin(), g.op(o).deps.end());
    while (!todo.empty()) {
      const OpId d = todo.back();
      todo.pop_back();
      const std::int32_t l = last[static_cast<std::size_t>(d)];
      if (l >= 0) {
        CHECK(has(static_cast<std::size_t>(f), static_cast<std::size_t>(l)));
      } else {
        todo.insert(todo.end(), g.op(d).deps.begin(), g.op(d).deps.end());
      }
    }
  }
}

KernelDesc only_kernel(const std::vector<KernelDesc>& ks) {
  REQUIRE(ks.size() == 1);
  return ks.front();
}

}  // namespace

TEST_CASE("ResNet-50 inference, batch 1, fp32: one kernel per conv, the op FLOPs, launchable") {
  const OpGraph g = make_model("resnet50", {.batch = 1});
  const TaskGraph tg = lower_graph(g);
  MESSAGE("ResNet-50 bs1 inference (sm70, fp32): " << tg.kernels.size() << " kernels for "
                                                   << g.op_count() << " ops");
  // PyTorch eager: conv, batch norm and ReLU each a kernel, plus the adds, pools and the fc.
  CHECK(tg.kernels.size() >= 150);
  CHECK(tg.kernels.size() <= 200);
  check_launchable(tg);
  check_task_graph(tg, g);
  CHECK(kernel_flops_of_kinds(tg, g, {OpKind::conv, OpKind::gemm}) ==
        op_flops_of_kinds(g, {OpKind::conv, OpKind::gemm}));
  CHECK(total_kernel_flops(tg) == static_cast<double>(g.total_flops()));
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i) {
    const auto ks = lower_op(g, i);
    double f = 0;
    for (const auto& k : ks) f += k.flops;
    CAPTURE(g.op(i).name);
    CHECK(f == static_cast<double>(g.flops(i)));
    CHECK(tg.first_kernel_of_op[static_cast<std::size_t>(i)] >= 0);
  }
}

TEST_CASE("ResNet-50 conv1 (7x7, stride 2) and fc launch shapes") {
  const LoweringOptions volta;  // sm70, fp32: cuDNN's SIMT implicit GEMM
  SUBCASE("batch 1 and 64 on sm70, fp32") {
    // Implicit GEMM M = N*112*112, N = 64 channels, K = 3*7*7: 64-wide tiles; 98 CTAs of
    // 128x64 already fill the 80 SMs of a V100.
    const OpGraph g1 = make_model("resnet50", {.batch = 1});
    const KernelDesc k1 = only_kernel(lower_op(g1, op_named(g1, "stem.conv"), volta));
    CHECK(k1.name == "volta_scudnn_128x64_relu_interior_nn_v1");
    CHECK(k1.grid == Dim3{98, 1, 1});
    CHECK(k1.block == Dim3{128, 1, 1});
    CHECK(k1.registers_per_thread == 160);                   // as measured for this tile
    CHECK(k1.shared_mem_per_cta == (128 + 64) * 8 * 4 * 2);  // (m + n) * k * 4 B * 2 stages
    CHECK(k1.unit == MathUnit::fp32_core);
    CHECK(k1.flops == static_cast<double>(g1.flops(op_named(g1, "stem.conv"))));
    // Compulsory: image + weights + output once; the R*S-fold im2col re-reads come from L2.
    CHECK(k1.dram_bytes == (3 * 224 * 224 + 64 * 3 * 7 * 7 + 64 * 112 * 112) * 4.0);
    CHECK(k1.l2_bytes > 0);

    const OpGraph g64 = make_model("resnet50", {.batch = 64});
    const KernelDesc k64 = only_kernel(lower_op(g64, op_named(g64, "stem.conv"), volta));
    CHECK(k64.name == k1.name);
    CHECK(k64.grid == Dim3{98 * 64, 1, 1});
  }
  SUBCASE("batch 1 on sm80, fp16: tensor cores, a smaller tile to fill 108 SMs") {
    const OpGraph g = make_model("resnet50", {.batch = 1, .dtype = DType::fp16});
    const KernelDesc k = only_kernel(lower_op(g, op_named(g, "stem.conv"), {.arch_sm = 80}));
    CHECK(k.name.rfind("sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_"
                       "tilesize64x64x32_stage4",
                       0) == 0);
    CHECK(k.unit == MathUnit::tensor_core);
    CHECK(k.dtype == DType::fp16);
    CHECK(k.grid == Dim3{196, 1, 1});
    CHECK(k.shared_mem_per_cta == (64 + 64) * 32 * 2 * 4);
  }
  SUBCASE("fc: a GEMV at batch 1, a GEMM at batch 64") {
    const OpGraph g1 = make_model("resnet50", {.batch = 1});
    const KernelDesc v = only_kernel(lower_op(g1, op_named(g1, "head.fc"), volta));
    CHECK(v.name.rfind("gemv2T_kernel_val<", 0) == 0);
    CHECK(v.grid == Dim3{250, 1, 1});  // a warp per output, 4 per CTA
    CHECK(v.flops == 2.0 * 2048 * 1000 + 1000);
    CHECK(v.dram_bytes == (2048 + 1000 * 2048 + 1000 + 1000) * 4.0);

    const OpGraph g64 = make_model("resnet50", {.batch = 64});
    const KernelDesc m = only_kernel(lower_op(g64, op_named(g64, "head.fc"), volta));
    // x [64, 2048] W^T: cuBLAS sees "tn"; M = 64 rows allow 64- and 32-row tiles only.
    CHECK(m.name == "volta_sgemm_32x32_sliced1x4_tn");
    CHECK(m.grid == Dim3{2, 32, 1});
    CHECK(m.block == Dim3{128, 1, 1});
    CHECK(m.flops == static_cast<double>(g64.flops(op_named(g64, "head.fc"))));
  }
}

TEST_CASE("launch shapes match PyTorch's on a real A100 trace of ResNet-50 at batch 32") {
  // Figures from a Kineto trace of ResNet-50 training, batch 32 (HolisticTraceAnalysis test
  // data, /work/shared/data/kineto-traces/a100_resnet_ddp2_rank0.json.gz).
  const OpGraph g = make_model("resnet50", {.batch = 32, .training = true});
  const LoweringOptions a100{.arch_sm = 80};
  const KernelDesc relu = only_kernel(lower_op(g, op_named(g, "stem.relu"), a100));
  CHECK(relu.grid == Dim3{50176, 1, 1});
  CHECK(relu.block == Dim3{128, 1, 1});
  CHECK(contains(relu.name, "vectorized_elementwise_kernel<4"));
  const KernelDesc pool = only_kernel(lower_op(g, op_named(g, "stem.maxpool"), a100));
  CHECK(pool.grid == Dim3{25088, 1, 1});
  CHECK(pool.block == Dim3{256, 1, 1});
  const KernelDesc gap = only_kernel(lower_op(g, op_named(g, "head.gap"), a100));
  CHECK(gap.grid == Dim3{4096, 1, 1});
  CHECK(gap.block == Dim3{32, 16, 1});
  const KernelDesc sm = only_kernel(lower_op(g, op_named(g, "loss.softmax"), a100));
  CHECK(sm.name == "softmax_warp_forward<float, float, float, 10, false, false>");
  CHECK(sm.grid == Dim3{8, 1, 1});
  CHECK(sm.block == Dim3{32, 4, 1});
  const KernelDesc add = only_kernel(lower_op(g, op_named(g, "layer1.0.add"), a100));
  CHECK(add.grid == Dim3{50176, 1, 1});
  // Optimizer: a multi_tensor_apply launch of 512 threads, a CTA per 64Ki elements.
  const OpId fc_update = op_named(g, "head.fc.weight.update");
  const KernelDesc upd = only_kernel(lower_op(g, fc_update, a100));
  CHECK(upd.block == Dim3{512, 1, 1});
  CHECK(upd.grid == Dim3{32, 1, 1});  // 2,048,000 elements
  CHECK(upd.flops == static_cast<double>(g.flops(fc_update)));
}

TEST_CASE("split-K for tall-K, small-MN problems adds a reduction kernel") {
  GraphBuilder b("tall_k", DType::fp32);
  const TensorId a = b.input("a", {64, 65536});
  const TensorId w = b.input("b", {65536, 64});
  Op op;
  op.name = "mm";
  op.kind = OpKind::gemm;
  op.inputs = {a, w};
  op.outputs = {b.graph().add_tensor("y", {64, 64}, DType::fp32)};
  const OpId id = b.graph().add_op(op);
  const OpGraph& g = b.graph();
  const auto ks = lower_op(g, id);
  REQUIRE(ks.size() == 2);
  // 64x32 tiles: 2 CTAs, K split 40 ways to make one wave on 80 SMs.
  CHECK(ks[0].name == "volta_sgemm_64x32_sliced1x4_nn");
  CHECK(ks[0].grid == Dim3{1, 2, 40});
  CHECK(ks[0].flops == static_cast<double>(g.flops(id)));
  CHECK(contains(ks[1].name, "splitKreduce_kernel"));
  CHECK(ks[1].flops == 0);
  CHECK(ks[1].dram_bytes == 40 * 64 * 64 * 4.0 + 64 * 64 * 4.0);  // partials in, C out
  CHECK(ks[0].dram_bytes == 2 * 64 * 65536 * 4.0 + 40 * 64 * 64 * 4.0);
  const TaskGraph tg = lower_graph(g);
  CHECK(tg.deps[1] == std::vector<std::int32_t>{0});
  check_task_graph(tg, g);
}

TEST_CASE("math units and kernel families follow dtype, options and architecture") {
  auto gemm_like = [](const OpGraph& g, const KernelDesc& k) {
    const OpKind kind = g.op(k.op).kind;
    return (kind == OpKind::conv || kind == OpKind::gemm) && !contains(k.name, "gemv") &&
           !contains(k.name, "reduce") && !contains(k.name, "elementwise");
  };
  for (const int arch : {70, 80, 90}) {
    CAPTURE(arch);
    const std::string prefix = arch == 70   ? "volta_fp16_s884cudnn_fp16_"
                               : arch == 80 ? "sm80_xmma_"
                                            : "sm90_xmma_";
    const OpGraph g = make_model("resnet50", {.batch = 8, .dtype = DType::fp16});
    const TaskGraph tg = lower_graph(g, {.arch_sm = arch});
    check_launchable(tg);
    const std::int64_t smem_limit = arch == 70 ? 96 * 1024 : arch == 80 ? 163 * 1024 : 227 * 1024;
    for (const KernelDesc& k : tg.kernels) {
      CAPTURE(k.name);
      CHECK(k.shared_mem_per_cta <= smem_limit);
      if (gemm_like(g, k)) {
        CHECK(k.unit == MathUnit::tensor_core);
        if (g.op(k.op).kind == OpKind::conv) CHECK(k.name.rfind(prefix, 0) == 0);
      } else {
        CHECK(k.unit == MathUnit::fp32_core);  // memory-bound kernels
      }
    }
    // Without tensor cores fp16 runs on CUDA cores (hgemm-style kernels).
    const TaskGraph simt = lower_graph(g, {.tensor_cores = false, .arch_sm = arch});
    for (const KernelDesc& k : simt.kernels) CHECK(k.unit == MathUnit::fp32_core);
  }
  // Every tensor-core dtype fits the shared memory of each architecture.
  for (const DType dt : {DType::tf32, DType::int8, DType::bf16})
    for (const int arch : {80, 90}) {
      CAPTURE(dtype_name(dt));
      CAPTURE(arch);
      const OpGraph g = make_model("resnet50", {.batch = 8, .dtype = dt});
      const TaskGraph tg = lower_graph(g, {.arch_sm = arch});
      check_launchable(tg);
      for (const KernelDesc& k : tg.kernels)
        CHECK(k.shared_mem_per_cta <= (arch == 80 ? 163 : 227) * 1024);
    }
  // fp32 never uses tensor cores; bf16 and tf32 do from sm80 on, not on Volta.
  const OpGraph f32 = make_model("resnet50", {.batch = 8});
  const TaskGraph t32 = lower_graph(f32, {.arch_sm = 80});
  for (const KernelDesc& k : t32.kernels) CHECK(k.unit == MathUnit::fp32_core);
  const OpGraph bf16 = make_model("resnet50", {.batch = 8, .dtype = DType::bf16});
  const OpId conv = op_named(bf16, "layer1.0.conv_1");
  CHECK(only_kernel(lower_op(bf16, conv, {.arch_sm = 70})).unit == MathUnit::fp32_core);
  const KernelDesc k80 = only_kernel(lower_op(bf16, conv, {.arch_sm = 80}));
  CHECK(k80.unit == MathUnit::tensor_core);
  CHECK(contains(k80.name, "bf16bf16_bf16f32"));
  const KernelDesc k90 = only_kernel(lower_op(bf16, conv, {.arch_sm = 90}));
  CHECK(contains(k90.name, "sm90_xmma_fprop_implicit_gemm_bf16"));
  CHECK(k90.block.x % 128 == 0);  // warp groups
}

TEST_CASE("a larger batch gives proportionally larger grids") {
  const OpGraph g1 = make_model("resnet50", {.batch = 1});
  const OpGraph g8 = make_model("resnet50", {.batch = 8});
  const TaskGraph t1 = lower_graph(g1);
  const TaskGraph t8 = lower_graph(g8);
  // The same kernels, but for split-K reductions where a small batch leaves K the long side
  // (the fc layer at batch 8).
  auto main_kernels = [](const TaskGraph& tg) {
    return std::count_if(tg.kernels.begin(), tg.kernels.end(), [](const KernelDesc& k) {
      return !contains(k.name, "splitKreduce") && !contains(k.name, "reduce_wgrad");
    });
  };
  CHECK(main_kernels(t8) == main_kernels(t1));
  std::int64_t c1 = 0, c8 = 0;
  for (const auto& k : t1.kernels) c1 += k.ctas();
  for (const auto& k : t8.kernels) c8 += k.ctas();
  MESSAGE("ResNet-50 CTAs launched: " << c1 << " at batch 1, " << c8 << " at batch 8");
  CHECK(c8 > 4 * c1);
  // Elementwise kernels scale exactly.
  for (const char* name : {"stem.relu", "layer1.0.add", "layer3.2.relu_1"}) {
    CAPTURE(name);
    const auto k1 = only_kernel(lower_op(g1, op_named(g1, name)));
    const auto k8 = only_kernel(lower_op(g8, op_named(g8, name)));
    CHECK(k8.grid.x == 8 * k1.grid.x);
  }
  // Work scales exactly.
  CHECK(total_kernel_flops(t8) == 8 * total_kernel_flops(t1));
}

TEST_CASE("ResNet-50 training, batch 32: data- and weight-gradient kernels, a consistent DAG") {
  for (const int arch : {70, 80}) {
    CAPTURE(arch);
    const DType dt = arch == 70 ? DType::fp32 : DType::fp16;
    const OpGraph graph = make_model("resnet50", {.batch = 32, .dtype = dt, .training = true});
    const TaskGraph tg = lower_graph(graph, {.arch_sm = arch});
    MESSAGE("ResNet-50 bs32 training (sm" << arch << ", " << dtype_name(dt)
                                          << "): " << tg.kernels.size() << " kernels for "
                                          << graph.op_count() << " ops");
    CHECK(tg.kernels.size() > graph.op_count());  // batch norm's two kernels, split-K reductions
    CHECK(tg.kernels.size() < 2 * graph.op_count());
    check_launchable(tg);
    check_task_graph(tg, graph);
    CHECK(kernel_flops_of_kinds(tg, graph, {OpKind::conv, OpKind::gemm}) ==
          op_flops_of_kinds(graph, {OpKind::conv, OpKind::gemm}));
    CHECK(total_kernel_flops(tg) == static_cast<double>(graph.total_flops()));
    std::size_t dgrad = 0, wgrad = 0, split_reductions = 0;
    for (const KernelDesc& k : tg.kernels) {
      const Op& op = graph.op(k.op);
      if (op.kind != OpKind::conv) continue;
      if (contains(k.name, "reduce_wgrad")) {
        ++split_reductions;
        continue;
      }
      if (op.pass == Pass::dgrad) {
        ++dgrad;
        CHECK(
            contains(k.name, arch == 70 ? "_stridedB_interior" : "sm80_xmma_dgrad_implicit_gemm"));
      }
      if (op.pass == Pass::wgrad) {
        ++wgrad;
        CHECK(contains(k.name, arch == 70 ? "_stridedB_splitK_" : "sm80_xmma_wgrad_implicit_gemm"));
      }
    }
    CHECK(dgrad == 52);
    CHECK(wgrad == 53);
    MESSAGE("  split-K reductions of weight gradients: " << split_reductions);
  }
}

TEST_CASE("batch norm: one kernel at inference, statistics + normalisation in training") {
  const OpGraph inf = make_model("resnet50", {.batch = 4});
  const auto ki = lower_op(inf, op_named(inf, "stem.bn"));
  REQUIRE(ki.size() == 1);
  CHECK(contains(ki[0].name, "bn_fw_inf_1C11_kernel_NCHW"));
  const OpGraph tr = make_model("resnet50", {.batch = 4, .training = true});
  const OpId bn = op_named(tr, "stem.bn");
  const auto kt = lower_op(tr, bn);
  REQUIRE(kt.size() == 2);
  CHECK(contains(kt[0].name, "batch_norm_collect_statistics_kernel"));
  CHECK(kt[0].grid == Dim3{64, 1, 1});  // a CTA per channel
  CHECK(contains(kt[1].name, "batch_norm_transform_input_kernel"));
  CHECK(kt[0].flops + kt[1].flops == static_cast<double>(tr.flops(bn)));
  const auto kb = lower_op(tr, op_named(tr, "stem.bn.dgrad"));
  REQUIRE(kb.size() == 1);
  CHECK(contains(kb[0].name, "batch_norm_backward_kernel"));
}

TEST_CASE("fused conv + bias + activation: one kernel, the activation launches nothing") {
  GraphBuilder b("fused", DType::fp32);
  const TensorId x = b.input("x", {8, 16, 32, 32});
  const TensorId c = b.conv(x, 32, 3, 1, std::nullopt, 1, /*bias=*/true);
  b.activation(c, "relu");
  const OpGraph& g = b.graph();
  const OpId conv = op_named(g, "conv"), relu = op_named(g, "relu");

  const auto eager = lower_op(g, conv);
  REQUIRE(eager.size() == 2);  // the conv, then PyTorch's broadcasting bias add
  CHECK(contains(eager[1].name, "elementwise_kernel<128, 2, CUDAFunctor_add"));
  CHECK(eager[0].flops + eager[1].flops == static_cast<double>(g.flops(conv)));
  CHECK(lower_op(g, relu).size() == 1);

  const LoweringOptions fused{.fuse_bias_activation = true};
  const KernelDesc k = only_kernel(lower_op(g, conv, fused));
  CHECK(k.flops == static_cast<double>(g.flops(conv) + g.flops(relu)));
  CHECK(lower_op(g, relu, fused).empty());
  const TaskGraph tg = lower_graph(g, fused);
  CHECK(tg.kernels.size() == 1);
  CHECK(tg.first_kernel_of_op[static_cast<std::size_t>(relu)] == -1);
  CHECK(total_kernel_flops(tg) == static_cast<double>(g.total_flops()));
  check_task_graph(tg, g);
}

TEST_CASE("an inference engine folds batch norms into their convs and fuses the activations") {
  const OpGraph g = make_model("resnet50", {.batch = 1});
  const TaskGraph eager = lower_graph(g);
  const TaskGraph trt = lower_graph(g, {.fold_batch_norm = true});
  std::size_t norms = 0;
  for (const KernelDesc& k : trt.kernels) norms += contains(k.name, "bn_fw_inf");
  CHECK(norms == 0);
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i) {
    const bool launches = trt.first_kernel_of_op[static_cast<std::size_t>(i)] >= 0;
    if (g.op(i).kind == OpKind::conv) CHECK(launches);
    if (g.op(i).kind == OpKind::batch_norm) CHECK(!launches);
  }
  // 53 norms folded; the ReLUs straight after a norm fused (not those after a residual add).
  CHECK(trt.kernels.size() + g.count_ops(OpKind::batch_norm) + 33 == eager.kernels.size());
  CHECK(total_kernel_flops(trt) == doctest::Approx(static_cast<double>(g.total_flops())));
  check_task_graph(trt, g);
  // A training graph keeps its norms (batch statistics), folded or not.
  OpGraph t = make_model("resnet50", {.batch = 2, .image_size = 64, .training = true});
  CHECK(lower_graph(t, {.fold_batch_norm = true}).kernels.size() == lower_graph(t).kernels.size());
}

TEST_CASE("a fused optimizer step is chunked into multi_tensor_apply launches") {
  OpGraph g = make_model("resnet50", {.batch = 2, .image_size = 64});
  TensorId logits = -1;
  for (TensorId t = 0; t < static_cast<TensorId>(g.tensor_count()); ++t)
    if (g.producer(t) >= 0 && g.consumers(t).empty()) logits = t;
  append_training_step(g, logits, {.optimizer = "adam", .fused_optimizer = true});
  const OpId upd = op_named(g, "optimizer.update");
  const auto ks = lower_op(g, upd);
  double flops = 0;
  std::int64_t blocks = 0;
  for (const KernelDesc& k : ks) {
    CHECK(k.grid.x <= 320);
    CHECK(
        contains(k.name, "multi_tensor_apply_kernel<TensorListMetadata<4>, FusedAdamMathFunctor"));
    flops += k.flops;
    blocks += k.grid.x;
  }
  MESSAGE("Adam over ResNet-50's 161 parameter tensors: " << ks.size() << " launches");
  CHECK(ks.size() >= 5);  // at most 36 tensors (depth 4) per launch
  CHECK(flops == doctest::Approx(static_cast<double>(g.flops(upd))).epsilon(1e-12));
  std::int64_t chunks = 0;
  for (const Tensor& t : g.tensors())
    if (t.parameter) chunks += (t.elements() + 65535) / 65536;
  CHECK(blocks == chunks);
}

TEST_CASE("every zoo model lowers, inference and training, into launchable consistent graphs") {
  for (const std::string& name : model_names()) {
    for (const bool training : {false, true}) {
      CAPTURE(name);
      CAPTURE(training);
      const OpGraph g = make_model(name, {.batch = 2, .training = training});
      for (const int arch : {70, 90}) {
        const TaskGraph tg = lower_graph(g, {.arch_sm = arch});
        check_launchable(tg);
        check_task_graph(tg, g);
        CHECK(kernel_flops_of_kinds(tg, g, {OpKind::conv, OpKind::depthwise_conv, OpKind::gemm}) ==
              op_flops_of_kinds(g, {OpKind::conv, OpKind::depthwise_conv, OpKind::gemm}));
        CHECK(total_kernel_flops(tg) == static_cast<double>(g.total_flops()));
      }
    }
  }
}

TEST_CASE("depthwise convolutions are direct kernels on CUDA cores") {
  const OpGraph g =
      make_model("mobilenet_v2", {.batch = 4, .dtype = DType::fp16, .training = true});
  std::size_t fwd = 0, dgrad = 0, wgrad = 0;
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i) {
    const Op& op = g.op(i);
    if (op.kind != OpKind::depthwise_conv) continue;
    const KernelDesc k = only_kernel(lower_op(g, i, {.arch_sm = 80}));
    CAPTURE(k.name);
    CHECK(k.unit == MathUnit::fp32_core);
    CHECK(k.threads_per_cta() >= 256);
    CHECK(k.threads_per_cta() <= 512);
    if (op.pass == Pass::fprop) {
      ++fwd;
      CHECK(contains(k.name, "conv_depthwise2d_forward_kernel"));
      CHECK(k.grid.x == (g.tensor(op.outputs[0]).elements() + 511) / 512);
    }
    dgrad += op.pass == Pass::dgrad;
    wgrad += op.pass == Pass::wgrad;
  }
  CHECK(fwd == 17);
  CHECK(dgrad == 17);
  CHECK(wgrad == 17);
}

TEST_CASE("concat gradients are views: no kernel, dependencies pass through") {
  const OpGraph g = make_model("inception_v3", {.batch = 2, .training = true});
  const TaskGraph tg = lower_graph(g);
  std::size_t views = 0;
  for (OpId i = 0; i < static_cast<OpId>(g.op_count()); ++i)
    if (g.op(i).kind == OpKind::concat && g.op(i).pass == Pass::dgrad) {
      ++views;
      CHECK(tg.first_kernel_of_op[static_cast<std::size_t>(i)] == -1);
    }
  CHECK(views > 0);
  check_task_graph(tg, g);
}

TEST_CASE("lowering rejects an unknown architecture and op ids out of range") {
  const OpGraph g = make_model("resnet50", {.batch = 1});
  CHECK_THROWS_AS(lower_op(g, 0, {.arch_sm = 60}), sim::InputError);
  CHECK_THROWS_AS(lower_graph(g, {.arch_sm = 61}), sim::InputError);
  CHECK_THROWS_AS(lower_op(g, -1), sim::InputError);
  CHECK_THROWS_AS(lower_op(g, static_cast<OpId>(g.op_count())), sim::InputError);
  // An A100-class arch between the named ones rounds down.
  CHECK(lower_op(g, 0, {.arch_sm = 86}).front().name ==
        lower_op(g, 0, {.arch_sm = 80}).front().name);
}
