#pragma once
// An immutable description of one GPU model (as Akita separates Spec from State), read once from
// configs/gpus/<name>.yaml and validated there. Every value in the presets names its source.

#include <cstdint>
#include <string>

#include "models/gpu_sharing.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/time.hpp"
#include "workloads/kernel.hpp"
#include "workloads/lowering.hpp"

namespace models {

struct SmLimits {
  int max_threads = 2048;
  int max_warps = 64;
  int max_ctas = 32;
  int registers = 65536;
  int max_registers_per_thread = 255;
  std::int64_t shared_memory = 0;       // per SM, bytes
  std::int64_t max_shared_per_cta = 0;  // bytes
  int fp32_lanes = 64;
  int tensor_cores = 4;
  // Memory-level parallelism: bytes one warp keeps in flight to DRAM. With the DRAM latency
  // this caps what a CTA can draw (Little's law): a small grid cannot use the whole bus.
  std::int64_t bytes_in_flight_per_warp = 1024;
};

// Fractions of the datasheet peaks that tuned kernels reach, measured by microbenchmarks
// (STREAM-like copies for DRAM, cuBLAS GEMMs for compute). Calibrated once per GPU.
struct Efficiency {
  double fp32 = 0.85;
  double tensor = 0.70;
  double dram = 0.85;
  double l2 = 0.80;
};

struct GpuSpec {
  std::string name;
  std::string architecture;
  int sm_version = 70;  // compute capability as an integer: "9.0" -> 90
  int sm_count = 0;
  sim::Frequency clock;  // boost clock: the peaks below are quoted at it
  SmLimits sm;
  // Whole-GPU dense peaks, operations per second (0: the GPU has no such mode).
  double fp64 = 0, fp32 = 0, fp16_tensor = 0, bf16_tensor = 0, tf32_tensor = 0, int8_tensor = 0;
  std::uint64_t dram_capacity = 0;
  double dram_bandwidth = 0;  // bytes/s
  std::uint64_t l2_size = 0;
  double l2_bandwidth = 0;    // bytes/s
  sim::Time dram_latency;     // load-to-use latency of a DRAM access
  std::string host_link_kind;  // pcie | shared-memory
  double host_link_bandwidth = 0;
  int concurrent_kernels = 128;
  sim::Time launch_latency;   // host API call until the kernel can start on the device
  sim::Time kernel_gap;       // device-side gap between dependent kernels on one stream
  // Device time every kernel, copy and memset spends beyond its CTAs' work: setting up the grid
  // and signalling completion once its writes are visible. Inside the measured duration of a
  // kernel (Kineto/CUPTI), unlike `kernel_gap`, which lies between two kernels.
  sim::Time kernel_overhead;
  sim::Time cta_launch;       // per-CTA dispatch cost on an SM
  Efficiency efficiency;
  SharingSpec sharing;  // time slicing and MIG (models/gpu_sharing.hpp)

  // Every key of a GPU preset, declared once: what from_config reads and `warpsim list gpu`
  // prints.
  static const sim::ParamSchema& schema();
  static GpuSpec from_config(const sim::Config& c);

  // Peak operations per second of the whole GPU for a math unit and dtype; falls back to the
  // FP32 cores when the GPU has no tensor mode for the dtype (e.g. bf16 on V100).
  double peak(workloads::MathUnit unit, workloads::DType dtype) const;
  // Achievable: peak x efficiency.
  double achievable(workloads::MathUnit unit, workloads::DType dtype) const;
  double achievable_dram() const { return dram_bandwidth * efficiency.dram; }  // bytes/s
  // A kernel's ideal times at the achievable rates on `sm_share` of the SMs, with no waves,
  // latencies or overheads: what its work alone costs (reports, schedulers' estimates). The GPU
  // model's answer (models/gpu.hpp) adds all of those.
  struct RooflineBound {
    double compute_seconds = 0, memory_seconds = 0;
    double seconds() const {
      return compute_seconds > memory_seconds ? compute_seconds : memory_seconds;
    }
    bool compute_bound() const { return compute_seconds > memory_seconds; }
  };
  RooflineBound roofline(const workloads::KernelDesc& k, double sm_share = 1.0) const;
  // The tensor-core peak for a dtype, 0 when the GPU has none.
  double tensor_peak(workloads::DType dtype) const;
  // How the libraries would lower ops for this GPU: its architecture's kernel families, tensor
  // cores for every dtype but fp32 (as PyTorch's defaults).
  workloads::LoweringOptions lowering(workloads::DType dtype) const;
};

}  // namespace models
