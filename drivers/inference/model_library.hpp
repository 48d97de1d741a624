#pragma once
// Zoo models built and lowered once per (model, samples), shared by every run of an experiment.

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "workloads/kernel.hpp"
#include "workloads/lowering.hpp"
#include "workloads/op_graph.hpp"

namespace drivers {

class ModelLibrary {
 public:
  // Models built in `dtype` (their tensors), lowered with `lowering`.
  explicit ModelLibrary(workloads::LoweringOptions lowering,
                        workloads::DType dtype = workloads::DType::fp32)
      : lowering_(lowering), dtype_(dtype) {}
  const workloads::OpGraph& graph(const std::string& model, int samples);
  // `device_sms` > 0: lowered for a device of that many SMs -- a MIG instance, which is the
  // whole GPU to the libraries a process in it calls, so their tile heuristics aim at its SMs.
  // 0: for the lowering options' own.
  const workloads::TaskGraph& lowered(const std::string& model, int samples, int device_sms = 0);

 private:
  struct Entry {
    workloads::OpGraph graph;
    std::map<int, workloads::TaskGraph> lowered;  // by device SMs (0: the options' own)
  };
  Entry& get(const std::string& model, int samples);
  workloads::LoweringOptions lowering_;
  workloads::DType dtype_;
  std::map<std::pair<std::string, int>, std::unique_ptr<Entry>> cache_;
};

}  // namespace drivers
