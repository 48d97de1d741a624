#include "workloads/trace_op_work.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace workloads {
namespace {

int type_size(const std::string& t, DType* dtype) {
  if (t == "c10::Half" || t == "Half") {
    *dtype = DType::fp16;
    return 2;
  }
  if (t == "c10::BFloat16" || t == "BFloat16") {
    *dtype = DType::bf16;
    return 2;
  }
  if (t == "double") return 8;
  if (t == "long int" || t == "int64_t") return 8;
  if (t == "int") return 4;
  if (t == "bool" || t == "unsigned char" || t == "signed char") return 1;
  return 4;  // float and anything else we do not know
}

double elements(const std::vector<std::int64_t>& shape) {
  double e = 1;
  for (std::int64_t d : shape) e *= static_cast<double>(d);
  return e;
}

// Matrix products: dims of A and B (batched or not) and an optional bias.
std::optional<TracedWork> matmul(const kineto::CpuOp& op) {
  if (op.name != "aten::mm" && op.name != "aten::addmm" && op.name != "aten::bmm" &&
      op.name != "aten::baddbmm")
    return std::nullopt;
  const auto& in = op.input_dims;
  std::size_t a = 0;
  if (op.name == "aten::addmm" || op.name == "aten::baddbmm") a = 1;
  if (in.size() < a + 2) return std::nullopt;
  const auto& A = in[a];
  const auto& B = in[a + 1];
  const bool batched = op.name == "aten::bmm" || op.name == "aten::baddbmm";
  const std::size_t rank = batched ? 3 : 2;
  if (A.size() != rank || B.size() != rank) return std::nullopt;
  const double batch = batched ? static_cast<double>(A[0]) : 1.0;
  const double m = static_cast<double>(A[rank - 2]), k = static_cast<double>(A[rank - 1]);
  const double n = static_cast<double>(B[rank - 1]);
  if (static_cast<double>(B[rank - 2]) != k) return std::nullopt;
  TracedWork w;
  const int size = type_size(op.input_types.size() > a ? op.input_types[a] : "", &w.dtype);
  // Half and bfloat16 products run on tensor cores; PyTorch keeps fp32 matmuls on the CUDA
  // cores unless TF32 is enabled (off by default since 1.12).
  w.unit = w.dtype == DType::fp32 ? MathUnit::fp32_core : MathUnit::tensor_core;
  w.flops = 2 * batch * m * n * k;
  w.dram_bytes = batch * (m * k + k * n + m * n) * size;
  if (a == 1) w.dram_bytes += elements(in[0]) * size;  // the bias, read once
  w.source = op.name + " shapes";
  return w;
}

// Ops that touch each operand once: inputs read, an output the size of the largest input
// written (in place, `op_`, the first input is written back).
std::optional<TracedWork> pointwise(const kineto::CpuOp& op) {
  static const std::array<std::string_view, 26> names = {"aten::add",
                                                         "aten::add_",
                                                         "aten::mul",
                                                         "aten::mul_",
                                                         "aten::sub",
                                                         "aten::sub_",
                                                         "aten::div",
                                                         "aten::div_",
                                                         "aten::relu",
                                                         "aten::relu_",
                                                         "aten::sigmoid",
                                                         "aten::tanh",
                                                         "aten::threshold_backward",
                                                         "aten::copy_",
                                                         "aten::fill_",
                                                         "aten::zero_",
                                                         "aten::clamp",
                                                         "aten::clamp_",
                                                         "aten::neg",
                                                         "aten::exp",
                                                         "aten::sigmoid_backward",
                                                         "aten::tanh_backward",
                                                         "aten::addcmul_",
                                                         "aten::addcdiv_",
                                                         "aten::sqrt",
                                                         "aten::pow"};
  if (std::find(names.begin(), names.end(), op.name) == names.end()) return std::nullopt;
  TracedWork w;
  double read = 0, largest = 0;
  int out_size = 4;
  for (std::size_t i = 0; i < op.input_dims.size(); ++i) {
    const std::string type = i < op.input_types.size() ? op.input_types[i] : "";
    if (type == "Scalar" || type.empty()) continue;  // a number, not a tensor
    DType dt = DType::fp32;
    const int size = type_size(type, &dt);
    const double e = elements(op.input_dims[i]);
    if (i == 0) {
      w.dtype = dt;
      out_size = size;
    }
    if (op.name == "aten::fill_" || op.name == "aten::zero_") {
      largest = std::max(largest, e);
      break;  // writes only
    }
    read += e * size;
    largest = std::max(largest, e);
  }
  if (largest <= 0) return std::nullopt;
  w.flops = largest;
  w.dram_bytes = read + largest * out_size;
  w.source = op.name + " shapes";
  return w;
}

std::string lowercase(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

// Element size of the first scalar type a kernel's name mentions (its template arguments).
int name_type_size(std::string_view name, DType* dtype) {
  struct Known {
    std::string_view token;
    int size;
    DType dtype;
  };
  static const Known known[] = {{"c10::Half", 2, DType::fp16}, {"__half", 2, DType::fp16},
                                {"c10::BFloat16", 2, DType::bf16}, {"double", 8, DType::fp32},
                                {"long", 8, DType::fp32},          {"float", 4, DType::fp32},
                                {"int", 4, DType::fp32},           {"bool", 1, DType::fp32},
                                {"char", 1, DType::fp32}};
  std::size_t best = name.npos;
  const Known* pick = nullptr;
  for (const Known& k : known) {
    // the first whole-word occurrence after the kernel's name
    for (auto at = name.find(k.token); at != name.npos; at = name.find(k.token, at + 1)) {
      const bool word_start = at == 0 || !std::isalnum(static_cast<unsigned char>(name[at - 1]));
      const auto end = at + k.token.size();
      const bool word_end =
          end == name.size() || !std::isalnum(static_cast<unsigned char>(name[end]));
      if (word_start && word_end) {
        if (at < best) best = at, pick = &k;
        break;
      }
    }
  }
  if (!pick) return 0;
  *dtype = pick->dtype;
  return pick->size;
}

// PyTorch's TensorIterator kernels (ATen/native/cuda/CUDALoops.cuh, Loops.cuh): the grid covers
// the elements in blocks of a fixed size -- vectorized_elementwise_kernel and
// unrolled_elementwise_kernel 128 threads x 4 elements, elementwise_kernel<nt, vt> nt x vt --
// and every operand (at::detail::Array<char*, N>: the output and the inputs) is streamed once.
// The last block may be partial and broadcast inputs are read less: an upper bound of one
// block and of the broadcast operand's bytes.
std::optional<TracedWork> elementwise_geometry(const kineto::DeviceOp& d) {
  const std::string_view name = d.name;
  double per_block = 0;
  std::size_t args_at = name.npos;
  for (std::string_view k : {"vectorized_elementwise_kernel<", "unrolled_elementwise_kernel<"})
    if (auto at = name.find(k); at != name.npos && per_block == 0) {
      per_block = 512;
      args_at = at + k.size();
    }
  if (per_block == 0) {
    constexpr std::string_view legacy = "at::native::elementwise_kernel<";
    const auto at = name.find(legacy);
    if (at == name.npos) return std::nullopt;
    int nt = 0, vt = 0;
    if (std::sscanf(std::string(name.substr(at + legacy.size(), 24)).c_str(), "%d, %d", &nt,
                    &vt) != 2 || nt <= 0 || vt <= 0)
      return std::nullopt;
    per_block = static_cast<double>(nt) * vt;
    args_at = at + legacy.size();
  }
  if (d.block.count() <= 0 || d.grid.count() <= 0) return std::nullopt;
  // Operands: the Array<char*, N> of data pointers, else the functor's lambda arity + 1.
  int operands = 0;
  constexpr std::string_view array = "at::detail::Array<char*, ";
  if (auto at = name.find(array); at != name.npos)
    operands = std::atoi(std::string(name.substr(at + array.size(), 4)).c_str());
  if (operands <= 0) {
    // The element lambda: the first whose parameters are values (not empty, not the index).
    bool index_lambda = false;
    for (auto at = name.find("{lambda(", args_at); at != name.npos && operands <= 0;
         at = name.find("{lambda(", at + 1)) {
      const auto close = name.find(')', at);
      if (close == name.npos) break;
      const std::string_view params = name.substr(at + 8, close - at - 8);
      if (params == "int") index_lambda = true;
      else if (!params.empty())
        operands = 2 + static_cast<int>(std::count(params.begin(), params.end(), ','));
    }
    // gpu_kernel_impl's index lambda alone: the functor says the arity.
    if (operands <= 0 && index_lambda)
      operands = contains(name, "Binary") || contains(name, "CUDAFunctor_") ? 3 : 2;
  }
  if (operands <= 0) operands = 2;
  TracedWork w;
  int size = name_type_size(name.substr(args_at), &w.dtype);
  if (size == 0) size = 4;
  const double elements = static_cast<double>(d.grid.count()) * per_block;
  w.flops = elements;
  w.dram_bytes = elements * operands * size;
  w.source = "elementwise launch geometry";
  return w;
}

// "[2, 2]" or "2" -> {2, 2} / {2}; empty when the text is not a list of integers.
std::vector<std::int64_t> int_list(std::string_view text) {
  std::vector<std::int64_t> out;
  std::string digits;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (c == ',' || c == ']') {
      if (!digits.empty()) out.push_back(std::atoll(digits.c_str()));
      digits.clear();
    } else if (c != '[' && c != ' ') {
      return {};
    }
  }
  if (!digits.empty()) out.push_back(std::atoll(digits.c_str()));
  return out;
}

// Where each of a convolution op's arguments is (ATen's signatures), -1 where it has none.
struct ConvArgs {
  std::string_view op;
  int input, weight, grad_output, stride, padding, dilation, transposed, groups;
};
constexpr ConvArgs kConvOps[] = {
    {"aten::convolution", 0, 1, -1, 3, 4, 5, 6, 8},
    {"aten::_convolution", 0, 1, -1, 3, 4, 5, 6, 8},
    {"aten::conv2d", 0, 1, -1, 3, 4, 5, -1, 6},
    {"aten::cudnn_convolution", 0, 1, -1, 3, 2, 4, -1, 5},
    {"aten::convolution_backward", 1, 2, 0, 4, 5, 6, 7, 9},
};

// 2-D convolutions (NCHW input, KCRS weight): 2 N K P Q (C/g) R S FLOPs per pass. The output
// size P x Q comes from the grad_output's shape (backward) or from stride, padding and dilation
// in the op's concrete inputs (forward). A backward op's kernels are the data gradient
// (`dgrad` in the name: reads dY and W, writes dX) and the weight gradient (`wgrad`: reads dY and
// X, writes dW), each one pass.
std::optional<TracedWork> convolution(const kineto::CpuOp& op, const kineto::DeviceOp& d) {
  const ConvArgs* a = nullptr;
  for (const ConvArgs& c : kConvOps)
    if (op.name == c.op) a = &c;
  if (!a) return std::nullopt;
  const auto& in = op.input_dims;
  auto dims = [&](int i) -> const std::vector<std::int64_t>* {
    return i >= 0 && static_cast<std::size_t>(i) < in.size() ? &in[static_cast<std::size_t>(i)]
                                                             : nullptr;
  };
  auto concrete = [&](int i) -> std::string_view {
    return i >= 0 && static_cast<std::size_t>(i) < op.concrete_inputs.size()
               ? std::string_view(op.concrete_inputs[static_cast<std::size_t>(i)])
               : std::string_view();
  };
  const auto* x = dims(a->input);
  const auto* w = dims(a->weight);
  if (!x || !w || x->size() != 4 || w->size() != 4) return std::nullopt;
  if (concrete(a->transposed) == "True") return std::nullopt;  // transposed: other arithmetic
  const double n = static_cast<double>((*x)[0]), c = static_cast<double>((*x)[1]);
  const double k = static_cast<double>((*w)[0]), cg = static_cast<double>((*w)[1]);
  const double r = static_cast<double>((*w)[2]), sz = static_cast<double>((*w)[3]);
  if (cg <= 0 || k <= 0) return std::nullopt;
  const std::vector<std::int64_t> groups = int_list(concrete(a->groups));
  if (!groups.empty() && groups[0] > 0 && static_cast<double>(groups[0]) * cg != c)
    return std::nullopt;  // the shapes and the groups disagree
  double p = 0, q = 0;
  const bool backward = a->grad_output >= 0;
  if (backward) {
    const auto* dy = dims(a->grad_output);
    if (!dy || dy->size() != 4) return std::nullopt;
    p = static_cast<double>((*dy)[2]);
    q = static_cast<double>((*dy)[3]);
  } else {
    auto pair = [](std::vector<std::int64_t> v, std::int64_t dflt) {
      if (v.empty()) v = {dflt};
      if (v.size() == 1) v.push_back(v[0]);
      return v;
    };
    const auto st = int_list(concrete(a->stride)), pad = int_list(concrete(a->padding));
    const auto dil = int_list(concrete(a->dilation));
    if (st.empty() || pad.empty()) return std::nullopt;  // no concrete inputs: P, Q unknown
    const auto s2 = pair(st, 1), p2 = pair(pad, 0), d2 = pair(dil, 1);
    if (s2[0] <= 0 || s2[1] <= 0) return std::nullopt;
    p = std::floor((static_cast<double>((*x)[2]) + 2.0 * static_cast<double>(p2[0]) -
                    static_cast<double>(d2[0]) * (r - 1) - 1) / static_cast<double>(s2[0])) + 1;
    q = std::floor((static_cast<double>((*x)[3]) + 2.0 * static_cast<double>(p2[1]) -
                    static_cast<double>(d2[1]) * (sz - 1) - 1) / static_cast<double>(s2[1])) + 1;
  }
  if (p <= 0 || q <= 0) return std::nullopt;
  TracedWork t;
  const int size = type_size(op.input_types.size() > static_cast<std::size_t>(a->input)
                                 ? op.input_types[static_cast<std::size_t>(a->input)]
                                 : "",
                             &t.dtype);
  const double x_el = n * c * static_cast<double>((*x)[2]) * static_cast<double>((*x)[3]);
  const double w_el = k * cg * r * sz, y_el = n * k * p * q;
  t.flops = 2 * n * k * p * q * cg * r * sz;
  const std::string lower = lowercase(d.name);
  if (!backward) {
    t.dram_bytes = (x_el + w_el + y_el) * size;
  } else if (contains(lower, "dgrad")) {
    t.dram_bytes = (y_el + w_el + x_el) * size;
  } else if (contains(lower, "wgrad")) {
    t.dram_bytes = (y_el + x_el + w_el) * size;
  } else {
    return std::nullopt;  // a backward kernel that does not say which gradient it computes
  }
  t.unit = t.dtype == DType::fp32 ? MathUnit::fp32_core : MathUnit::tensor_core;
  t.source = std::string(op.name) + " shapes";
  return t;
}

// Batch norm over an NCHW input, from its shape: cuDNN's one-kernel forward reads the input
// twice in training (statistics, then normalize) and once in inference, and writes the output;
// the backward reads input and output gradient twice (the reductions, then dX) and writes dX.
std::optional<TracedWork> batch_norm(const kineto::CpuOp& op) {
  const bool backward =
      op.name == "aten::cudnn_batch_norm_backward" || op.name == "aten::native_batch_norm_backward";
  const bool forward = op.name == "aten::cudnn_batch_norm" || op.name == "aten::native_batch_norm" ||
                       op.name == "aten::_batch_norm_impl_index";
  if (!forward && !backward) return std::nullopt;
  if (op.input_dims.empty() || op.input_dims[0].size() < 2) return std::nullopt;
  TracedWork t;
  const int size = type_size(op.input_types.empty() ? "" : op.input_types[0], &t.dtype);
  const double x = elements(op.input_dims[0]);
  bool training = true;
  if (forward)  // (input, weight, bias, running_mean, running_var, training, momentum, eps)
    training = op.concrete_inputs.size() <= 5 || op.concrete_inputs[5] != "False";
  const double passes = backward ? 5 : training ? 3 : 2;
  t.dram_bytes = passes * x * size;
  t.flops = (backward ? 8 : 4) * x;
  t.source = std::string(op.name) + " shapes";
  return t;
}

// Library GEMM kernels: cuBLAS (volta_sgemm_*, ampere_*gemm*, sm80_xmma_gemm_*, gemv*), CUTLASS.
bool is_gemm_kernel(const std::string& name) {
  const std::string lower = lowercase(name);
  return contains(lower, "gemm") || contains(lower, "gemv");
}

// An fp32 product the library ran on TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32,
// cudnn.allow_tf32): cuBLAS/cuDNN name the math in the kernel (`tf32`, CUTLASS's
// `tensorop_s1688`: fp32 data, tensor-core 16x8x8 TF32 MMA).
bool tf32_kernel(const std::string& name) {
  const std::string lower = lowercase(name);
  return contains(lower, "tf32") || contains(lower, "tensorop_s1688") ||
         contains(lower, "tensorop_s16816");
}

}  // namespace

std::string_view op_family(const kineto::DeviceOp& d) {
  using Kind = kineto::DeviceOp::Kind;
  if (d.kind == Kind::memcpy) return "memcpy";
  if (d.kind == Kind::memset) return "memset";
  if (d.nccl) return "nccl";
  const std::string n = lowercase(d.name);
  if (contains(n, "embedding") || contains(n, "embedding_bag")) return "embedding";
  if (contains(n, "conv") || contains(n, "fprop") || contains(n, "dgrad") ||
      contains(n, "wgrad") || contains(n, "implicit_gemm") || contains(n, "scudnn") ||
      contains(n, "fft2d") || contains(n, "winograd"))
    return "conv";
  if (is_gemm_kernel(n)) return "gemm";
  if (contains(n, "bn_") || contains(n, "batch_norm") || contains(n, "layer_norm") ||
      contains(n, "group_norm") || contains(n, "norm_kernel"))
    return "norm";
  if (contains(n, "elementwise") || contains(n, "fill")) return "elementwise";
  if (contains(n, "reduce") || contains(n, "softmax") || contains(n, "scan") ||
      contains(n, "sort") || contains(n, "pool"))
    return "reduction";
  if (contains(n, "copy") || contains(n, "nchwtonhwc") || contains(n, "nhwctonchw") ||
      contains(n, "transpose") || contains(n, "cat") || contains(n, "index") ||
      contains(n, "gather") || contains(n, "scatter"))
    return "copy-kernel";
  return "other";
}

std::optional<TracedWork> traced_work(const kineto::DeviceOp& d, const kineto::CpuOp* op,
                                      int kernels_of_op) {
  if (op)
    for (const auto& shape : op->input_dims)
      for (std::int64_t dim : shape)
        if (dim < 0) op = nullptr;  // a size the reader could not take: no work from shapes
  using Kind = kineto::DeviceOp::Kind;
  if (d.kind == Kind::memset) {
    TracedWork w;
    w.dram_bytes = static_cast<double>(d.bytes);
    w.source = "memset bytes";
    return w;
  }
  if (d.kind == Kind::memcpy) {
    TracedWork w;
    // Device-to-device copies read and write DRAM.
    if (contains(d.name, "DtoD")) {
      w.dram_bytes = 2.0 * static_cast<double>(d.bytes);
      w.source = "memcpy bytes";
      return w;
    }
    // Pinned host copies are DMA over the host link. A pageable one is staged by the driver
    // through a pinned buffer with CPU copies the host model does not have: not derived.
    if ((contains(d.name, "HtoD") || contains(d.name, "DtoH")) && contains(d.name, "Pinned")) {
      w.host_bytes = static_cast<double>(d.bytes);
      w.source = "pinned memcpy bytes over the host link";
      return w;
    }
    return std::nullopt;
  }
  if (!d.nccl && (d.flops > 0 || d.bytes > 0)) {  // the trace says it (warpsim-probe traces)
    TracedWork w;
    w.flops = d.flops;
    w.dram_bytes = static_cast<double>(d.bytes);
    w.l2_bytes = static_cast<double>(d.l2_bytes);
    if (d.dtype == "fp16" || d.dtype == "bf16" || d.dtype == "tf32" || d.dtype == "int8") {
      w.unit = MathUnit::tensor_core;
      w.dtype = parse_dtype(d.dtype);
    }
    // A warpsim timeline says which units did the arithmetic (fp16 elementwise kernels run on
    // the CUDA cores); a probe trace does not, and reduced precision there means tensor cores.
    if (d.math_unit == "fp32_core") w.unit = MathUnit::fp32_core;
    w.source = "kernel args";
    return w;
  }
  if (d.nccl) return std::nullopt;
  std::optional<TracedWork> w;
  if (op && !op->input_dims.empty()) {
    // The op's shapes describe its kernel only if the kernel is of the op's kind and the only
    // one of that kind it launched: an aten::mm whose one kernel is a fill (a degenerate or
    // pre-zeroed product) is not a GEMM. A convolution's backward launches two: dgrad, wgrad.
    const std::string_view family = op_family(d);
    const bool backward_conv = op->name == "aten::convolution_backward";
    if (family == "gemm" && kernels_of_op == 1) w = matmul(*op);
    if (family == "conv" && (kernels_of_op == 1 || (backward_conv && kernels_of_op == 2)))
      w = convolution(*op, d);
    if (family == "norm" && kernels_of_op == 1) w = batch_norm(*op);
    if (family == "elementwise" && kernels_of_op == 1) w = pointwise(*op);
    // fp32 data on a kernel whose name says TF32 tensor-core math.
    if (w && (family == "gemm" || family == "conv") && w->dtype == DType::fp32 &&
        tf32_kernel(d.name)) {
      w->unit = MathUnit::tensor_core;
      w->dtype = DType::tf32;
      w->source += ", TF32 from the kernel";
    }
  }
  // Without the op's shapes, PyTorch's elementwise kernels still tell their size by their grid.
  if (!w) w = elementwise_geometry(d);
  // Shapes no GPU could hold (a corrupt trace) predict nothing: at most 10^18 FLOPs, 1 PB.
  if (w && (w->flops > 1e18 || w->dram_bytes > 1e15)) return std::nullopt;
  return w;
}

}  // namespace workloads
