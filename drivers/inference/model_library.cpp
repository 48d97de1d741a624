#include "drivers/inference/model_library.hpp"

#include "workloads/model_zoo.hpp"

namespace drivers {

ModelLibrary::Entry& ModelLibrary::get(const std::string& model, int samples) {
  auto& e = cache_[{model, samples}];
  if (!e) {
    e = std::make_unique<Entry>();
    workloads::ModelOptions mo;
    mo.batch = samples;
    mo.dtype = dtype_;
    e->graph = workloads::make_model(model, mo);
  }
  return *e;
}

const workloads::OpGraph& ModelLibrary::graph(const std::string& model, int samples) {
  return get(model, samples).graph;
}

const workloads::TaskGraph& ModelLibrary::lowered(const std::string& model, int samples,
                                                  int device_sms) {
  Entry& e = get(model, samples);
  auto it = e.lowered.find(device_sms);
  if (it == e.lowered.end()) {
    workloads::LoweringOptions o = lowering_;
    if (device_sms > 0) o.sms = device_sms;
    it = e.lowered.emplace(device_sms, workloads::lower_graph(e.graph, o)).first;
  }
  return it->second;
}

}  // namespace drivers
