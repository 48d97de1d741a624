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
    e->lowered = workloads::lower_graph(e->graph, lowering_);
  }
  return *e;
}

const workloads::OpGraph& ModelLibrary::graph(const std::string& model, int samples) {
  return get(model, samples).graph;
}

const workloads::TaskGraph& ModelLibrary::lowered(const std::string& model, int samples) {
  return get(model, samples).lowered;
}

}  // namespace drivers
