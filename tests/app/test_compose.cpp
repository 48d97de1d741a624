// Mechanisms composed from YAML alone, no C++ of their own: DDP training (card 7's loop) with
// card 1's launch paths and host costs, and BARM serving (card 6) with host costs. What must
// emerge: PyTorch eager's host work holds a small-batch step back against the ideal host; a
// captured Nimble graph gives that back; per-op host work slows every tenant of a shared GPU.
#include <doctest/doctest.h>

#include <string>

#include "../support/run_experiment.hpp"

namespace {

// The DDP point: ResNet-50 at batch 8 on the 4-GPU PCIe box, ring all-reduce.
const std::string kDdp = "--point --set model=resnet50 --set batch=8 --set algorithm=ring";

double iteration(const std::string& overrides) {
  const auto m = testing::run_experiment("ddp_launch", kDdp + " " + overrides);
  return m.at("iteration_ms");
}

}  // namespace

TEST_CASE("DDP with host launch costs: eager is host-bound, nimble gives it back") {
  // The card-7 experiment's own config names no host: the ideal host.
  const auto ideal =
      testing::run_experiment("innetwork_allreduce", "--set system=pcie-4gpu " + kDdp);
  const double ideal_ms = ideal.at("iteration_ms");
  const double eager_ms = iteration("--set launch=eager");
  const double nimble_ms = iteration("--set launch=nimble");
  CAPTURE(ideal_ms);
  CAPTURE(eager_ms);
  CAPTURE(nimble_ms);
  CHECK(eager_ms > 1.2 * ideal_ms);  // per-op framework work and launches on the host thread
  CHECK(nimble_ms < 0.8 * eager_ms);
}

TEST_CASE("BARM with host launch costs: every policy's tenants wait for their host threads") {
  const std::string reduced = "--set oversubscription=[0.5] --set 'policy=[fifo, layer-batch]'";
  const auto ideal =
      testing::run_experiment("barm", reduced + " --set taskset=[mixed] --set sms=[8]");
  const auto host = testing::run_experiment("barm_host", reduced);
  for (const char* p : {"fifo", "layer-batch"}) {
    CAPTURE(p);
    const std::string k = std::string("barm.mixed.os0.5.sm8.") + p + ".mean_ms";
    CHECK(host.at(k) > ideal.at(k) * 1.05);
  }
}
