#include "workloads/trace_op_work.hpp"

#include <algorithm>
#include <array>
#include <cctype>
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

// Library GEMM kernels: cuBLAS (volta_sgemm_*, ampere_*gemm*, sm80_xmma_gemm_*, gemv*), CUTLASS.
bool is_gemm_kernel(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("gemm") != std::string::npos || lower.find("gemv") != std::string::npos;
}

}  // namespace

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
    // Device-to-device copies read and write DRAM; host copies cross PCIe / NVLink-C2C, which
    // the kernel model does not price.
    if (d.name.find("DtoD") == std::string::npos) return std::nullopt;
    TracedWork w;
    w.dram_bytes = 2.0 * static_cast<double>(d.bytes);
    w.source = "memcpy bytes";
    return w;
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
  if (d.nccl || !op || op->input_dims.empty() || kernels_of_op != 1) return std::nullopt;
  // The op's shapes describe its kernel only if the kernel is of the op's kind: an aten::mm
  // whose one kernel is a fill or a copy (a degenerate or pre-zeroed product) is not a GEMM.
  const bool gemm_kernel = is_gemm_kernel(d.name);
  auto w = gemm_kernel ? matmul(*op) : std::nullopt;
  if (!w && !gemm_kernel) w = pointwise(*op);
  // Shapes no GPU could hold (a corrupt trace) predict nothing: at most 10^18 FLOPs, 1 PB.
  if (w && (w->flops > 1e18 || w->dram_bytes > 1e15)) return std::nullopt;
  return w;
}

}  // namespace workloads
