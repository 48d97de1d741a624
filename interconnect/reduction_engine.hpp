#pragma once
// A switch's in-network reduction engine (NVLink SHARP in an NVSwitch, SHARP in an InfiniBand
// switch): a bounded pool of aggregation slots, a reduction throughput (a bandwidth resource the
// contributions of a chunk flow through), and multicast of the result.
//
// A chunk takes a slot when its contributions start to arrive and gives it back once the
// result has been multicast; while every slot is taken, further chunks wait (FIFO, in the
// collective that owns them). In functional mode the engine really sums the contributions of a
// slot (fp32 vectors), so tests can check the data that comes out.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "interconnect/system_spec.hpp"
#include "sim/flow_network.hpp"

namespace interconnect {

class ReductionEngine {
 public:
  ReductionEngine(std::string name, const ReductionSpec& spec, sim::FlowNetwork::ResourceId res)
      : name_(std::move(name)), spec_(spec), resource_(res), free_(spec.slots) {}

  const std::string& name() const { return name_; }
  const ReductionSpec& spec() const { return spec_; }
  sim::FlowNetwork::ResourceId resource() const { return resource_; }

  // Slots.
  int free_slots() const { return free_; }
  bool try_acquire(int n = 1) {
    if (free_ < n) return false;
    free_ -= n;
    peak_ = std::max(peak_, spec_.slots - free_);
    return true;
  }
  void release(int n = 1) { free_ += n; }
  int peak_slots() const { return peak_; }
  std::uint64_t waits() const { return waits_; }
  void count_wait() { ++waits_; }

  // Functional mode: the sum of the contributions, element by element.
  static void reduce(std::span<const std::span<const float>> contributions, std::span<float> out);

 private:
  std::string name_;
  ReductionSpec spec_;
  sim::FlowNetwork::ResourceId resource_;
  int free_;
  int peak_ = 0;
  std::uint64_t waits_ = 0;
};

}  // namespace interconnect
