#pragma once
// An immutable description of a multi-GPU system, read once from configs/systems/<name>.yaml:
// the GPU, how GPUs of one node are wired (NVSwitch, an NVLink mesh, a PCIe switch), the NICs
// and the leaf-spine network joining `nodes` such nodes, the in-network reduction engines of
// the switches, and how collective kernels are launched. Every preset value names its source.

#include <cstdint>
#include <string>
#include <vector>

#include "models/gpu_spec.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/time.hpp"

namespace interconnect {

// A full-duplex link: `bandwidth` bytes/s in each direction (the line rate), `latency` per
// traversal, and the share of the line rate that carries data once packet headers and the
// transport protocol's own traffic are paid (`efficiency`).
struct LinkSpec {
  double bandwidth = 0;
  sim::Time latency;
  double efficiency = 1;
  double data_rate() const { return bandwidth * efficiency; }
  static const sim::ParamSchema& schema();
  static LinkSpec from_config(const sim::Config& c);
};

// A switch's in-network reduction engine (NVLink SHARP, InfiniBand SHARP).
struct ReductionSpec {
  bool present = false;
  double throughput = 0;         // reduced output bytes/s the engine produces
  int slots = 0;                 // aggregation buffers: chunks in flight through the switch
  std::uint64_t chunk = 0;       // bytes one slot holds (the unit a collective is cut into)
  sim::Time latency;             // per chunk, from last contribution to result ready
  // When a collective starts and the engine has no free slot: wait for one (chunks queue), or
  // run the collective with the host ring instead (`fallback: ring`).
  bool fallback_to_ring = false;
  static const sim::ParamSchema& schema();
  static ReductionSpec from_config(const sim::Config& c);
};

enum class NodeFabric { nvswitch, mesh, pcie };

// One NVLink connection of a mesh: `lanes` links between GPUs a and b.
struct MeshLink {
  int a = 0, b = 0, lanes = 1;
};

// One of NCCL's protocols: how a collective kernel signals that data has arrived, which trades
// latency for bandwidth. LL writes 8-byte words that carry their own flag (no fence, the lowest
// latency, half the bytes data); LL128 does the same per 128-byte line (120 of 128 bytes data);
// Simple fences whole buffer slices (full bandwidth, a synchronisation per step).
struct ProtocolSpec {
  std::string name;          // ll | ll128 | simple
  sim::Time launch;          // once per collective: set-up before the first step
  sim::Time step_overhead;   // per step, on top of the route's latency: flags, fences, polling
  double efficiency = 1;     // data bytes per byte the protocol puts on the wire
  double channel_bandwidth = 0;  // wire bytes/s one channel moves; 0: no limit beyond the links
                                 // (unset in a preset: collective_kernels.channel_bandwidth)
  static const sim::ParamSchema& schema();
  static ProtocolSpec from_config(const sim::Config& c, std::string name);
};

// How collective kernels use the GPU (NCCL-like): CTAs per kernel, threads per CTA.
struct CollectiveKernelSpec {
  int ctas = 16;             // host algorithms (NCCL's channels)
  int in_network_ctas = 4;   // in-network algorithms only push and receive; 0: by DMA (copy
                             // engines, NIC), no kernel at all
  int threads = 512;
  std::uint64_t chunk = 4ull << 20;  // pipeline piece of the host algorithms
  int pipeline_depth = 2;            // pieces in flight per step (double buffering)
  sim::Time step_overhead;           // per algorithm step: synchronisation between peers
  // Bytes per second one channel's CTA moves (loads, stores, reductions through the SM);
  // 0: no limit beyond the links. A collective's flows on one GPU move at most ctas x this.
  double channel_bandwidth = 0;
  // The kernels stay on their SMs while data is on the wire (NCCL's persistent, polling CTAs);
  // false: they take SMs only for their reduce/copy work.
  bool persistent = true;
  // The protocols a collective may use (ll, ll128, simple, in that order; at least simple). A
  // preset without `protocols` has one, simple, made of step_overhead and channel_bandwidth.
  std::vector<ProtocolSpec> protocols;
  // "auto": each collective takes the protocol its estimate says is fastest for its size, as
  // NCCL's tuner does; or the name of one. In-network algorithms always use simple.
  std::string protocol = "auto";
  const ProtocolSpec& simple() const { return protocols.back(); }
};

struct SystemSpec {
  std::string name;
  models::GpuSpec gpu;
  int gpus_per_node = 1;
  int nodes = 1;

  NodeFabric fabric = NodeFabric::nvswitch;
  LinkSpec gpu_link;            // nvswitch, pcie: each GPU to the node switch; mesh: one lane
  std::vector<MeshLink> mesh;   // mesh only
  std::vector<std::vector<int>> rings;  // ring orders of the node's GPUs (empty: 0, 1, ...)
  ReductionSpec node_reduction; // the node switch's engine (nvswitch, pcie)

  // Between nodes (nodes > 1): a NIC per GPU on rail-optimised leaves, leaves to spines.
  LinkSpec nic;
  int nodes_per_leaf = 1;
  int spines = 0;
  LinkSpec uplink;              // one leaf-spine link
  ReductionSpec network_reduction;

  CollectiveKernelSpec kernels;

  int gpus() const { return gpus_per_node * nodes; }
  int leaves_per_rail() const { return (nodes + nodes_per_leaf - 1) / nodes_per_leaf; }

  // Every key of a system preset, declared once (`warpsim list system`); links and reduction
  // engines have schemas of their own (LinkSpec, ReductionSpec).
  static const sim::ParamSchema& schema();
  // Reads a system node (the tree of configs/systems/<name>.yaml); bad values fail at them.
  static SystemSpec from_config(const sim::Config& c);
  // A preset name (configs/systems/<name>.yaml) or a yaml file, with `overrides` such as
  // "nodes=128" or "system.nodes=128"; unknown names and keys are sim::InputErrors.
  static SystemSpec load(const sim::ConfigLoader& loader, const std::string& name_or_file,
                         const std::vector<std::string>& overrides = {});
};

}  // namespace interconnect
