// The in-network All-Reduce reproduction (card 7) at a reduced size: the qualitative results
// the card says must emerge from the model.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

namespace {

std::map<std::string, double> run_reduced() {
  testing::TempDir d;
  // The shipped experiment's sweeps narrowed to one system, one model, one other bucket size,
  // two algorithms of the size sweep and three sizes.
  const std::string cmd =
      std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
      "/configs/experiments/innetwork_allreduce.yaml --quiet --out " + (d.path() / "n").string() +
      " --set 'system=[pcie-4gpu]' --set 'model=[vgg16]' --set 'batch=[8]'"
      " --set 'bucket=[5MiB]' --set 'innetwork-allreduce/algorithm=[ring, in-network]'"
      " --set 'bytes=[65536, 2097152, 67108864]'"
      " --timeline " + (d.path() / "t.json").string();
  const auto r = testing::run_program(cmd);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  // The timeline shows the overlapped ring run: rank 0's kernels and the collectives' pieces.
  const std::string trace = testing::read(d.path() / "t.json");
  CHECK(trace.find("\"collectives\"") != std::string::npos);
  CHECK(trace.find("nccl_ring_all_reduce") != std::string::npos);
  return sim::metrics_from_json(testing::read(d.path() / "n" / "metrics.json"), "metrics.json");
}

}  // namespace

TEST_CASE("innetwork_allreduce: the results of card 7 emerge") {
  const auto m = run_reduced();
  const std::string t = "innet.pcie-4gpu.vgg16.";
  // Overlapping the all-reduce with backprop slows backprop down...
  CHECK(m.at(t + "ring.backward_ms") > m.at(t + "alone.backward_ms"));
  CHECK(m.at(t + "ring.backward_slowdown") > 1.02);
  // ...yet raises throughput: the iteration is shorter than reducing after backprop.
  CHECK(m.at(t + "ring.iteration_ms") < m.at(t + "ring.iteration_ms_no_overlap"));
  // In-network reduction removes most of the slowdown (no reduction kernels on the GPUs).
  CHECK(m.at(t + "in-network.recovered") > 0.5);
  CHECK(m.at(t + "in-network.iteration_ms") < m.at(t + "ring.iteration_ms"));
  // The gain depends on the message size: largest where the ring's steps cost latency.
  const double small = m.at("allreduce.pcie-4gpu.in-network.65536.speedup_vs_ring");
  const double large = m.at("allreduce.pcie-4gpu.in-network.67108864.speedup_vs_ring");
  CHECK(small > 1);
  CHECK(large > 1);
  CHECK(small > large * 1.2);
}

TEST_CASE("innetwork_allreduce: bad settings are one-line errors, exit code 2") {
  testing::TempDir d;
  const std::string base = std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
                           "/configs/experiments/innetwork_allreduce.yaml --quiet --out " +
                           (d.path() / "n").string();
  auto r = testing::run_program(base + " --set 'model=[vgg61]' --set 'batch=[8]'");
  CHECK(r.code == 2);
  CHECK(r.output.find("did you mean 'vgg16'") != std::string::npos);
  r = testing::run_program(base + " --set 'algorithm=[ring, in-netwrok]'");
  CHECK(r.code == 2);
  CHECK(r.output.find("in-network") != std::string::npos);
  r = testing::run_program(base + " --set 'bytes=[0]'");
  CHECK(r.code == 2);
  // A sweep-qualified key names a sweep and an axis it varies.
  r = testing::run_program(base + " --set 'innetwork-allreduce/model=[vgg16]'");
  CHECK(r.code == 2);
  CHECK(r.output.find("does not vary 'model'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d.path() / "n"));
}

TEST_CASE("warpsim collective: nccl-tests' columns, --dtype and --redop, the average bus bandwidth") {
  const std::string exe = std::string(WARPSIM_EXE) + " collective --system dgx-h100 ";
  const auto r = testing::run_program(exe + "--min 1MiB --max 4MiB --factor 4 -d half -o max");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("out-of-place") != std::string::npos);
  CHECK(r.output.find("in-place") != std::string::npos);
  CHECK(r.output.find("#wrong") != std::string::npos);
  // 1 MiB of half is 524288 elements; the reduction as asked; both halves' numbers.
  CHECK(r.output.find(" 1048576        524288      half     max") != std::string::npos);
  CHECK(r.output.find("# Avg bus bandwidth    : ") != std::string::npos);
  const auto bad = testing::run_program(exe + "--bytes 1MiB --dtype halfs");
  CHECK(bad.code == 2);
  CHECK(bad.output.find("did you mean 'half'") != std::string::npos);
}

TEST_CASE("warpsim collective: the protocol column, and nccl-tests' -g launch stagger") {
  const std::string exe =
      std::string(WARPSIM_EXE) + " collective --system dgx-a100 --bytes 8 --json";
  auto time_of = [](const std::string& json) {
    const auto at = json.find("\"time_us\":");
    return std::stod(json.substr(at + 10));
  };
  const auto one = testing::run_program(exe);
  const auto eight = testing::run_program(exe + " -g 8");
  CAPTURE(one.output);
  REQUIRE(one.code == 0);
  REQUIRE(eight.code == 0);
  CHECK(one.output.find("\"protocol\":\"ll\"") != std::string::npos);
  // One thread launching on 8 GPUs: the last starts 7 launches (3 us each on A100) later.
  CHECK(time_of(eight.output) - time_of(one.output) == doctest::Approx(21.0).epsilon(0.01));
  const auto big = testing::run_program(std::string(WARPSIM_EXE) +
                                        " collective --system dgx-a100 --bytes 1GiB");
  CHECK(big.output.find("N/A  simple") != std::string::npos);
  CHECK(testing::run_program(exe + " -g 0").code == 2);
}

TEST_CASE("warpsim collective: bad input is one line before any table, exit code 2") {
  const std::string exe = std::string(WARPSIM_EXE) + " collective ";
  auto r = testing::run_program(exe + "--system dgx-h100 --bytes 0");
  CHECK(r.code == 2);
  CHECK(r.output == "warpsim: error: --bytes must be > 0\n");
  r = testing::run_program(exe + "--system pcie-4gpu --set gpus_per_node=3 --algo halving-doubling"
                                 " --bytes 1MiB");
  CHECK(r.code == 2);
  CHECK(r.output.find("power-of-two") != std::string::npos);
  CHECK(r.output.find("busbw") == std::string::npos);  // no header before the error
  r = testing::run_program(std::string(WARPSIM_EXE) + " kernel --gpu h100 --op gemm");
  CHECK(r.code == 2);
  CHECK(r.output.find("did you mean 'h100-sxm'") != std::string::npos);
}

TEST_CASE("innetwork_allreduce full: the shipped experiment, both systems, three models") {
  testing::TempDir d;
  const auto r = testing::run_program(std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
                                      "/configs/experiments/innetwork_allreduce.yaml --quiet "
                                      "--out " + (d.path() / "n").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const auto m =
      sim::metrics_from_json(testing::read(d.path() / "n" / "metrics.json"), "metrics.json");
  for (const char* sys : {"dgx-h100", "pcie-4gpu"})
    for (const char* model : {"vgg16", "bert_large"}) {
      CAPTURE(sys);
      CAPTURE(model);
      const std::string k = std::string("innet.") + sys + "." + model + ".";
      CHECK(m.at(k + "ring.backward_slowdown") > 1.0);
      CHECK(m.at(k + "in-network.backward_slowdown") < m.at(k + "ring.backward_slowdown"));
      CHECK(m.at(k + "ring.iteration_ms") < m.at(k + "ring.iteration_ms_no_overlap"));
    }
  for (const char* sys : {"dgx-h100", "pcie-4gpu"}) {
    const std::string k = std::string("allreduce.") + sys + ".in-network.";
    CHECK(m.at(k + "4096.speedup_vs_ring") > m.at(k + "1073741824.speedup_vs_ring"));
  }
}
