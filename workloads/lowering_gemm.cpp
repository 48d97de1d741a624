// Convolutions and GEMMs as cuDNN / cuBLAS run them: one implicit-GEMM kernel with a CTA tile
// from a small menu, chosen as the libraries' heuristics do, plus a reduction kernel when the
// K dimension is split across CTAs (split-K). See docs/op-graph-format.md, "Lowering".

#include <fmt/format.h>

#include <algorithm>

#include "workloads/lowering_detail.hpp"

namespace workloads::lowering {

namespace {

// One CTA tile of a library's GEMM kernel family.
struct Tile {
  int m = 0, n = 0;  // C tile: rows x columns
  int k = 0;         // depth of one main-loop step (elements)
  int stages = 2;    // shared-memory pipeline depth
  int threads = 128;
  int regs = 128;            // per thread
  bool sliced = false;       // SIMT "sliced1x4": four warp groups split k, reduce through smem
  int producer_threads = 0;  // Hopper: a warp group that only loads (TMA); the rest do the math
  int consumer_threads() const { return threads - producer_threads; }
};

enum class Family { simt, volta_hmma, ampere_mma, hopper_wgmma };

constexpr int kRegisterFile = 65536;  // 32-bit registers per SM, Volta to Hopper

int round8(double v) {
  return static_cast<int>(round_up(static_cast<std::int64_t>(v + 0.999), 8));
}

// Tensor-core registers: the fp32 accumulators a (consumer) thread holds, plus fragments and
// addressing: min(255, 1.25 * acc + 88), rounded to 8 — 248 for 128x128 on 128 threads (cuDNN's
// measured 252), 168 for 64x128 (measured 168), 128 for 64x64 (measured 128). A CTA never asks
// for more than the register file: Hopper's 384-thread kernels launch at 168 and rebalance
// between producer and consumers with setmaxnreg.
int tensor_regs(int m, int n, int threads, int consumers) {
  const double acc = static_cast<double>(m) * n / consumers;
  const int want = std::min(255, round8(1.25 * acc + 88));
  return std::min(want, (kRegisterFile / threads) / 8 * 8);
}

Family family_of(const Context& c, MathUnit unit) {
  if (unit == MathUnit::fp32_core) return Family::simt;
  return c.arch == 90   ? Family::hopper_wgmma
         : c.arch == 80 ? Family::ampere_mma
                        : Family::volta_hmma;
}

// Menus, largest tile first. Shared memory per CTA is (m + n) * k * element size * stages.
std::vector<Tile> menu(Family f, DType t, int arch) {
  const int elem = dtype_size(t);
  std::vector<Tile> tiles;
  if (f == Family::simt) {
    // cuBLAS sgemm / cuDNN scudnn tiles; registers as measured in Kineto traces of the same tiles
    // (volta_sgemm_128x32: 57, scudnn_128x64: 160, *_sliced1x4: 82-86). Volta double-buffers;
    // Ampere and later keep 4 stages in flight (ampere_sgemm_32x32_sliced1x4: 32 KiB).
    const int stages = arch == 70 ? 2 : 4;
    tiles = {{128, 128, 8, stages, 256, 128, false, 0},
             {128, 64, 8, stages, 128, 160, false, 0},
             {128, 32, 8, stages, 256, 57, false, 0},
             {64, 32, 32, stages, 256, 82, true, 0},
             {32, 32, 32, stages, 128, 86, true, 0}};
    return tiles;
  }
  // Tensor cores: a k step of 64 bytes per row (Volta/Ampere) or 128 bytes (Hopper TMA).
  const int k = (f == Family::hopper_wgmma ? 128 : 64) / elem;
  struct Shape3 {
    int m, n, threads, stages;
  };
  std::vector<Shape3> shapes;
  switch (f) {
    case Family::volta_hmma:  // ldg8 double buffering, no cp.async
      shapes = {{256, 128, 256, 2},
                {128, 128, 256, 2},
                {128, 64, 128, 2},
                {64, 64, 128, 2},
                {64, 32, 128, 2}};
      break;
    case Family::ampere_mma:  // cp.async multistage, as cuDNN's xmma tiles
      shapes = {{256, 128, 256, 3},
                {128, 128, 128, 3},
                {128, 64, 128, 4},
                {64, 64, 128, 4},
                {64, 32, 128, 4}};
      break;
    case Family::hopper_wgmma:  // a TMA producer warp group + 1-2 consumer warp groups
      shapes = {{256, 128, 384, 0},
                {128, 128, 256, 0},
                {128, 64, 256, 0},
                {64, 64, 256, 0},
                {64, 32, 256, 0}};
      break;
    case Family::simt:
      break;
  }
  for (const auto& s : shapes) {
    Tile tile{s.m, s.n, k, s.stages, s.threads, 0, false, 0};
    if (f == Family::hopper_wgmma) {
      tile.producer_threads = 128;
      const int stage_bytes = (s.m + s.n) * k * elem;
      tile.stages = std::clamp(220 * 1024 / stage_bytes, 2, 8);
    }
    tile.regs = tensor_regs(s.m, s.n, s.threads, tile.consumer_threads());  // after producer
    tiles.push_back(tile);
  }
  return tiles;
}

std::int64_t smem_bytes(const Tile& t, DType d) {
  return static_cast<std::int64_t>(t.m + t.n) * t.k * dtype_size(d) * t.stages;
}

// A GEMM (or implicit GEMM) of `batch` independent m x n x k problems.
struct Problem {
  std::int64_t m = 1, n = 1, k = 1, batch = 1;
};

struct Choice {
  Tile tile;
  std::int64_t gm = 1, gn = 1, splitk = 1;
  std::int64_t ctas() const { return gm * gn * splitk; }
};

std::int64_t pow2_ceil(std::int64_t v) {
  std::int64_t p = 1;
  while (p < v) p *= 2;
  return p;
}

// First, tiles wider than the problem are out: a tile side may not exceed the problem's side
// rounded up to a power of two (or the menu's smallest side), so N = 64 output channels never
// run on 128-wide tiles. Then the largest remaining tile that still fills the GPU (>= one wave
// of CTAs over its SMs); when none does, the one giving the most CTAs (ties: the larger). Last,
// a problem still under half a wave whose K is the long side ("tall-K, small-MN") splits K over
// CTAs: the largest tile that, split, makes a wave, keeping >= 8 main-loop steps per split and
// at most 64 splits (cuDNN's wgrad launches up to ~54, as Kineto traces show).
constexpr std::int64_t kMaxSplitK = 64;

// The menu's tiles no wider than the problem (see above); the smallest when none is.
std::vector<Tile> fitting_tiles(const std::vector<Tile>& all, const Problem& p) {
  int min_m = all.front().m, min_n = all.front().n;
  for (const Tile& t : all) {
    min_m = std::min(min_m, t.m);
    min_n = std::min(min_n, t.n);
  }
  const std::int64_t max_m = std::max<std::int64_t>(pow2_ceil(p.m), min_m);
  const std::int64_t max_n = std::max<std::int64_t>(pow2_ceil(p.n), min_n);
  std::vector<Tile> tiles;
  for (const Tile& t : all)
    if (t.m <= max_m && t.n <= max_n) tiles.push_back(t);
  if (tiles.empty()) tiles.push_back(all.back());
  return tiles;
}

Choice choose(const std::vector<Tile>& all, const Problem& p, int sms) {
  const std::vector<Tile> tiles = fitting_tiles(all, p);

  auto ctas = [&](const Tile& t) { return ceil_div(p.m, t.m) * ceil_div(p.n, t.n) * p.batch; };
  const Tile* pick = nullptr;
  for (const Tile& t : tiles)
    if (ctas(t) >= sms) {
      pick = &t;
      break;
    }
  if (!pick) {
    pick = &tiles.front();
    for (const Tile& t : tiles)
      if (ctas(t) > ctas(*pick)) pick = &t;
  }
  Choice ch{*pick, ceil_div(p.m, pick->m), ceil_div(p.n, pick->n), 1};
  if (2 * ctas(*pick) > sms || p.k < std::max(p.m, p.n) || ceil_div(p.k, pick->k) < 16) return ch;
  // Split-K: now the largest tile that reaches a wave with its split, or the one that comes
  // closest.
  auto split = [&](const Tile& t) {
    const std::int64_t s = std::min({ceil_div(sms, ctas(t)), ceil_div(p.k, t.k) / 8, kMaxSplitK});
    return std::max<std::int64_t>(1, s);
  };
  const Tile* best = nullptr;
  for (const Tile& t : tiles)
    if (!best || ctas(t) * split(t) > ctas(*best) * split(*best)) {
      best = &t;
      if (ctas(t) * split(t) >= sms) break;
    }
  if (split(*best) < 2) return ch;
  return Choice{*best, ceil_div(p.m, best->m), ceil_div(p.n, best->n), split(*best)};
}

// What an autotuning library would try: every tile of the menu that fits the problem (the rule
// above's filter), each with K unsplit or split in 2..64 while every split keeps >= 8 main-loop
// steps. The rule's own choice comes first, so a tie keeps it.
std::vector<Choice> candidates(const std::vector<Tile>& all, const Problem& p, int sms) {
  std::vector<Choice> out{choose(all, p, sms)};
  for (const Tile& t : fitting_tiles(all, p)) {
    const std::int64_t gm = ceil_div(p.m, t.m), gn = ceil_div(p.n, t.n);
    for (std::int64_t s : {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64}) {
      if (s > 1 && ceil_div(p.k, t.k) / s < 8) break;
      if (s > 1 && gm * gn * p.batch >= 2 * sms) break;  // the grid already fills the GPU twice
      out.push_back(Choice{t, gm, gn, s});
    }
  }
  return out;
}

// The rule's choice, or with a price the fastest candidate's kernels (`build` makes them).
template <class Build>
Kernels select(const Context& c, const std::vector<Tile>& all, const Problem& p, Build build) {
  if (!c.o.price) return build(choose(all, p, c.sms));
  Kernels best;
  double best_s = 0;
  for (const Choice& ch : candidates(all, p, c.sms)) {
    Kernels ks = build(ch);
    double s = 0;
    for (const KernelDesc& k : ks) s += c.o.price(k);
    if (best.empty() || s < best_s) {
      best = std::move(ks);
      best_s = s;
    }
  }
  return best;
}

std::string xmma_types(DType t) {
  switch (t) {
    case DType::fp16:
      return "f16f16_f16f32_f32";
    case DType::bf16:
      return "bf16bf16_bf16f32_f32";
    case DType::tf32:
      return "tf32f32_tf32f32_f32";
    case DType::int8:
      return "i8i8_i8i32_f32";
    case DType::fp32:
    case DType::int64:
      break;
  }
  return "f32f32_f32f32_f32";
}

int mma_k(DType t) {
  return t == DType::tf32 ? 8 : t == DType::int8 ? 32 : 16;
}

std::string warps(const Tile& t) {
  const int w = t.threads / 32;
  return w >= 8 ? "4x2x1" : w >= 4 ? "2x2x1" : "2x1x1";
}

int warp_groups(const Tile& t) {
  return std::max(1, t.consumer_threads() / 128);
}

std::string simt_letter(DType t) {
  switch (t) {
    case DType::fp16:
      return "h";
    case DType::bf16:
      return "bf16";
    case DType::int8:
      return "i8";
    case DType::fp32:
    case DType::tf32:
    case DType::int64:
      break;
  }
  return "s";
}

std::string conv_name(const Context& c, Family f, Pass pass, DType t, const Tile& tile) {
  const auto pn = pass_name(pass);
  switch (f) {
    case Family::volta_hmma:
      return fmt::format("volta_fp16_s884cudnn_fp16_{}x{}_ldg8_{}_f2f_exp_interior_nhwc_tn_v1",
                         tile.m, tile.n, pass == Pass::fprop ? "relu" : pn);
    case Family::ampere_mma:
      return fmt::format(
          "sm80_xmma_{}_implicit_gemm_{}_nhwckrsc_nhwc_tilesize{}x{}x{}_stage{}_warpsize{}_g1_"
          "tensor16x8x{}_execute_kernel_cudnn",
          pn, xmma_types(t), tile.m, tile.n, tile.k, tile.stages, warps(tile), mma_k(t));
    case Family::hopper_wgmma:
      return fmt::format(
          "sm90_xmma_{}_implicit_gemm_{}_nhwckrsc_nhwc_tilesize{}x{}x{}_warpgroupsize{}x1x1_"
          "execute_segment_k_off_kernel__5x_cudnn",
          pn, xmma_types(t), tile.m, tile.n, tile.k, warp_groups(tile));
    case Family::simt:
      break;
  }
  return fmt::format("{}_{}cudnn_{}x{}_{}_interior_nn_v1", c.arch == 70 ? "volta" : "ampere",
                     simt_letter(t), tile.m, tile.n,
                     pass == Pass::fprop   ? "relu"
                     : pass == Pass::dgrad ? "stridedB"
                                           : "stridedB_splitK");
}

// cuBLAS is column-major: PyTorch's row-major Y = op(A) op(B) runs as Y^T = op(B)^T op(A)^T,
// so cuBLAS's (transa, transb) are (transpose_b, transpose_a): a linear layer is "tn".
std::string cublas_layout(const Op& op) {
  return fmt::format("{}{}", op.transpose_b ? 't' : 'n', op.transpose_a ? 't' : 'n');
}

std::string gemm_name(const Context& c, Family f, const Op& op, DType t, const Tile& tile) {
  const std::string ab = cublas_layout(op);
  switch (f) {
    case Family::volta_hmma:
      return fmt::format("volta_h884gemm_{}x{}_ldg8_{}", tile.m, tile.n, ab);
    case Family::ampere_mma:
      return fmt::format(
          "sm80_xmma_gemm_{}_{}_n_tilesize{}x{}x{}_stage{}_warpsize{}_tensor16x8x{}_kernel",
          xmma_types(t), ab, tile.m, tile.n, tile.k, tile.stages, warps(tile), mma_k(t));
    case Family::hopper_wgmma:
      return fmt::format(
          "sm90_xmma_gemm_{}_{}_n_tilesize{}x{}x{}_warpgroupsize{}x1x1_execute_segment_k_off_"
          "kernel__5x_cublas",
          xmma_types(t), ab, tile.m, tile.n, tile.k, warp_groups(tile));
    case Family::simt:
      break;
  }
  return fmt::format("{}_{}gemm_{}x{}{}_{}", c.arch == 70 ? "volta" : "ampere", simt_letter(t),
                     tile.m, tile.n, tile.sliced ? "_sliced1x4" : "", ab);
}

MathUnit unit_for(const Context& c, DType t) {
  if (!c.o.tensor_cores || t == DType::fp32) return MathUnit::fp32_core;
  if (c.arch == 70) return t == DType::fp16 ? MathUnit::tensor_core : MathUnit::fp32_core;
  return MathUnit::tensor_core;
}

// How a split K is summed: in the kernel (cuDNN fprop/dgrad: partial tiles meet in an L2
// workspace under a semaphore) or by a second kernel (cuDNN wgrad, cuBLAS).
enum class SplitReduce { in_kernel, separate_kernel };

struct TiledWork {
  Problem p;
  DType dtype = DType::fp32;
  MathUnit unit = MathUnit::fp32_core;
  double input_bytes = 0;   // A and B tensors (and a bias read by the epilogue)
  double output_bytes = 0;  // C tensor
  double flops = 0;
};

// The main kernel of a tiled GEMM and, for a split K summed separately, its reduction kernel.
Kernels tiled_kernels(const Context& c, OpId id, const TiledWork& w, const Choice& ch,
                      std::string name, SplitReduce reduce, std::string reduce_name,
                      Dim3 reduce_block) {
  const Problem& p = w.p;
  const double elem = dtype_size(w.dtype);
  KernelDesc k = kernel_for(c, id, std::move(name));
  k.dtype = w.dtype;
  k.unit = w.unit;
  k.grid = make_grid(ch.gm, ch.gn, p.batch * ch.splitk);
  k.block = {ch.tile.threads, 1, 1};
  k.registers_per_thread = ch.tile.regs;
  k.shared_mem_per_cta = smem_bytes(ch.tile, w.dtype);
  k.flops = w.flops;
  // Every CTA row reads its m-slice of A once per CTA column and vice versa; what exceeds the
  // compulsory read of the tensors comes from L2 (im2col's R*S-fold reuse included).
  const double tile_reads = (static_cast<double>(p.m) * p.k * static_cast<double>(ch.gn) +
                             static_cast<double>(p.k) * p.n * static_cast<double>(ch.gm)) *
                            static_cast<double>(p.batch) * elem;
  k.l2_bytes = std::max(0.0, tile_reads - w.input_bytes);
  const double partials = static_cast<double>(p.m) * p.n * p.batch * 4.0;  // fp32 workspace
  if (ch.splitk == 1) {
    k.dram_bytes = w.input_bytes + w.output_bytes;
    return {k};
  }
  if (reduce == SplitReduce::in_kernel) {
    k.dram_bytes = w.input_bytes + w.output_bytes;
    k.l2_bytes += 2.0 * static_cast<double>(ch.splitk - 1) * partials;
    return {k};
  }
  k.dram_bytes = w.input_bytes + static_cast<double>(ch.splitk) * partials;
  KernelDesc r = kernel_for(c, id, std::move(reduce_name));
  r.dtype = w.dtype;
  r.block = reduce_block;
  if (reduce_block.y > 1)  // cuBLAS: a 32 x 16 thread tile per CTA
    r.grid = make_grid(ceil_div(p.n, reduce_block.x), ceil_div(p.m, reduce_block.y), p.batch);
  else
    r.grid = make_grid(ceil_div(p.m * p.n * p.batch, reduce_block.x));
  r.registers_per_thread = 40;
  r.dram_bytes = static_cast<double>(ch.splitk) * partials + w.output_bytes;
  return {k, r};
}

}  // namespace

Kernels lower_conv(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const Shape& x = op.pass == Pass::dgrad ? c.out(op, 0).shape : c.in(op, 0).shape;
  const Shape& w = op.pass == Pass::wgrad ? c.out(op, 0).shape : c.in(op, 1).shape;
  const Shape& y = op.pass == Pass::fprop   ? c.out(op, 0).shape
                   : op.pass == Pass::dgrad ? c.in(op, 0).shape
                                            : c.in(op, 1).shape;
  const std::int64_t groups = op.groups;
  const std::int64_t n = x[0], ch = x[1], h = x[2], wd = x[3];
  const std::int64_t kout = w[0], r = w[2], s = w[3], pp = y[2], q = y[3];
  TiledWork work;
  work.p.batch = groups;
  switch (op.pass) {
    case Pass::fprop:  // Y[NPQ, K] = im2col(X)[NPQ, CRS] W^T[CRS, K]
      work.p.m = n * pp * q;
      work.p.n = kout / groups;
      work.p.k = ch / groups * r * s;
      break;
    case Pass::dgrad:  // dX[NHW, C] = dY[NHW, K*R*S/stride^2 taps] W[.., C]
      work.p.m = n * h * wd;
      work.p.n = ch / groups;
      work.p.k = std::max<std::int64_t>(
          1, kout / groups * r * s / (static_cast<std::int64_t>(op.stride.h) * op.stride.w));
      break;
    case Pass::wgrad:  // dW[K, CRS] = dY^T[K, NPQ] im2col(X)[NPQ, CRS]
      work.p.m = kout / groups;
      work.p.n = ch / groups * r * s;
      work.p.k = n * pp * q;
      break;
  }
  work.dtype = c.in(op, 0).dtype;
  work.unit = unit_for(c, work.dtype);
  const Family f = family_of(c, work.unit);

  const bool has_bias = op.pass == Pass::fprop && op.inputs.size() > 2;
  const OpId act = fused_activation(c, id);
  const bool bias_in_kernel = has_bias && (c.o.fuse_bias_activation || c.o.fold_batch_norm);
  const std::int64_t y_elems = product(y);
  work.input_bytes = static_cast<double>(c.g.bytes_read(id));
  if (has_bias && !bias_in_kernel) work.input_bytes -= static_cast<double>(c.in(op, 2).bytes());
  work.output_bytes = static_cast<double>(c.g.bytes_written(id));
  const double all = static_cast<double>(c.g.flops(id));
  work.flops = has_bias && !bias_in_kernel ? all - static_cast<double>(y_elems) : all;
  if (act >= 0) work.flops += static_cast<double>(c.g.flops(act));
  // A folded norm leaves a per-channel scale and shift (folded weights and a bias) that the
  // epilogue applies; its FLOPs stay with the conv's kernel, so the graph's total is kept.
  if (const OpId norm = folded_norm(c, id); norm >= 0) {
    work.flops += static_cast<double>(c.g.flops(norm));
    work.input_bytes += 2.0 * static_cast<double>(c.out(op, 0).shape.at(1)) * dtype_size(work.dtype);
  }

  const bool wgrad = op.pass == Pass::wgrad;
  Kernels ks = select(c, menu(f, work.dtype, c.arch), work.p, [&](const Choice& choice) {
    return tiled_kernels(
        c, id, work, choice, conv_name(c, f, op.pass, work.dtype, choice.tile),
        wgrad ? SplitReduce::separate_kernel : SplitReduce::in_kernel,
        fmt::format("cudnn::cnn::reduce_wgrad_nchw_helper<{}, float>", ctype(work.dtype)),
        Dim3{128, 1, 1});
  });
  if (has_bias && !bias_in_kernel) {
    // PyTorch eager: output.add_(bias.reshape(1, K, 1, 1)), a broadcasting add.
    KernelDesc b = elementwise_kernel(c, id, "CUDAFunctor_add", y_elems, false);
    b.flops = static_cast<double>(y_elems);
    b.dram_bytes =
        2.0 * static_cast<double>(c.out(op, 0).bytes()) + static_cast<double>(c.in(op, 2).bytes());
    ks.push_back(b);
  }
  return ks;
}

Kernels lower_gemm(const Context& c, OpId id) {
  const Op& op = c.g.op(id);
  const Shape& a = c.in(op, 0).shape;
  const Shape& y = c.out(op, 0).shape;
  TiledWork work;
  work.p.m = y[y.size() - 2];
  work.p.n = y[y.size() - 1];
  work.p.k = op.transpose_a ? a[a.size() - 2] : a[a.size() - 1];
  work.p.batch = product(Shape(y.begin(), y.end() - 2));
  work.dtype = c.in(op, 0).dtype;
  work.unit = unit_for(c, work.dtype);
  work.input_bytes = static_cast<double>(c.g.bytes_read(id));  // bias: cuBLASLt epilogue
  work.output_bytes = static_cast<double>(c.g.bytes_written(id));
  work.flops = static_cast<double>(c.g.flops(id));

  if (work.p.batch == 1 && (work.p.m == 1 || work.p.n == 1)) {
    // A matrix-vector product: cuBLAS's gemv kernels, a warp per output, on CUDA cores.
    const std::int64_t outputs = std::max(work.p.m, work.p.n);
    const bool t = work.p.m == 1 ? op.transpose_b : !op.transpose_a;
    const std::string ct = ctype(work.dtype);
    KernelDesc k = kernel_for(c, id,
                              fmt::format("gemv2{}_kernel_val<int, int, {}, {}, {}, float, 128, "
                                          "16, 4, 4, false, false>",
                                          t ? 'T' : 'N', ct, ct, ct));
    k.dtype = work.dtype;
    k.block = {128, 1, 1};
    k.grid = make_grid(ceil_div(outputs, 4));
    k.registers_per_thread = 40;
    k.flops = work.flops;
    k.dram_bytes = work.input_bytes + work.output_bytes;
    return {k};
  }

  const Family f = family_of(c, work.unit);
  return select(c, menu(f, work.dtype, c.arch), work.p, [&](const Choice& choice) {
    Kernels ks = tiled_kernels(c, id, work, choice, gemm_name(c, f, op, work.dtype, choice.tile),
                               SplitReduce::separate_kernel,
                               fmt::format("{}splitKreduce_kernel<32, 16, int, {}, float>",
                                           c.arch == 70 ? "" : "cublasLt::", ctype(work.dtype)),
                               Dim3{32, 16, 1});
    // Hopper's cuBLAS kernels are persistent: one CTA per SM walks the output tiles (stream-K
    // scheduling shares the last tiles' K loop among SMs), so a grid of more tiles than SMs
    // has no partial last wave. Its work is spread evenly over the SMs.
    if (f == Family::hopper_wgmma && choice.splitk == 1 && choice.ctas() > c.sms)
      ks.front().grid = make_grid(c.sms);
    return ks;
  });
}

}  // namespace workloads::lowering
