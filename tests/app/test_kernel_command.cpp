// End-to-end tests of `warpsim kernel`: the roofline bound, occupancy and waves it explains, its
// JSON output, and its bad-input messages.
#include <doctest/doctest.h>

#include "../support/run_program.hpp"
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <string>

namespace json = boost::json;

namespace {

testing::ProgramResult warpsim(const std::string& args) {
  return testing::run_program(std::string(WARPSIM_EXE) + " " + args);
}

// `warpsim kernel ARGS --json`, parsed; the run must succeed.
json::object kernel_json(const std::string& args) {
  const auto r = warpsim("kernel " + args + " --json");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  return json::parse(r.output).as_object();
}

const json::object& first_kernel(const json::object& doc) {
  return doc.at("kernels").as_array().at(0).as_object();
}

double num(const json::value& v) {
  return v.to_number<double>();
}

std::int64_t lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

}  // namespace

TEST_CASE("a big fp16 GEMM on H100 is compute-bound near the achievable tensor peak") {
  const auto doc = kernel_json("--gpu h100-sxm --op gemm --m 4096 --n 4096 --k 4096 --dtype fp16");
  CHECK(doc.at("gpu").as_string() == "h100-sxm");
  const auto& k = first_kernel(doc);
  CAPTURE(json::serialize(k));
  CHECK(k.at("bound").as_string() == "compute");
  CHECK(k.at("math_unit").as_string() == "tensor_core");
  CHECK(num(k.at("flops")) == doctest::Approx(2.0 * 4096 * 4096 * 4096).epsilon(1e-6));
  CHECK(num(k.at("arithmetic_intensity")) > 100);
  const double pct = num(k.at("percent_of_achievable"));
  CHECK(pct >= 40);
  CHECK(pct <= 100);
  CHECK(num(k.at("ctas_per_sm")) >= 1);
  CHECK(!k.at("occupancy_limited_by").as_array().empty());
  CHECK(num(k.at("time_s")) > 0);
}

TEST_CASE("a large elementwise add is memory-bound near the achievable DRAM bandwidth") {
  const auto doc =
      kernel_json("--gpu a100-sxm4-40gb --op elementwise --elements 16777216 --dtype fp16");
  const auto& k = first_kernel(doc);
  CAPTURE(json::serialize(k));
  CHECK(k.at("bound").as_string() == "memory");
  // Two fp16 operands read, one written.
  CHECK(num(k.at("dram_bytes")) == doctest::Approx(3.0 * 2 * 16777216).epsilon(1e-6));
  CHECK(num(k.at("arithmetic_intensity")) < 1);
  const double pct = num(k.at("percent_of_achievable"));
  CHECK(pct >= 40);
  CHECK(pct <= 100);
}

TEST_CASE("waves: a small GEMM fits in one, a large grid needs several") {
  const auto small = first_kernel(kernel_json("--gpu h100-sxm --op gemm --m 128 --n 128 --k 128"));
  CHECK(num(small.at("waves")) == 1);
  CHECK(num(small.at("ctas")) <= num(small.at("ctas_per_wave")));

  // Ampere's cuBLAS launches a CTA per output tile: a large grid runs in waves.
  const auto big = first_kernel(kernel_json("--gpu a100-sxm4-80gb --op gemm --m 8192 --n 8192 --k 1024"));
  CAPTURE(json::serialize(big));
  CHECK(num(big.at("ctas")) > num(big.at("ctas_per_wave")));
  CHECK(num(big.at("waves")) >= 2);
  const double per_wave = num(big.at("ctas_per_wave"));
  CHECK(num(big.at("waves")) == std::ceil(num(big.at("ctas")) / per_wave));

  // Fewer SMs: more waves for the same grid.
  const auto fewer = first_kernel(kernel_json(
      "--gpu a100-sxm4-80gb --op gemm --m 8192 --n 8192 --k 1024 --set gpu.sm_count=54"));
  CHECK(num(fewer.at("ctas")) == num(big.at("ctas")));
  CHECK(num(fewer.at("waves")) > num(big.at("waves")));

  // Hopper's are persistent: one CTA per SM walks the tiles, so there is no last partial wave.
  const auto hopper = first_kernel(kernel_json("--gpu h100-sxm --op gemm --m 8192 --n 8192 --k 1024"));
  CHECK(num(hopper.at("ctas")) == 132);
  CHECK(num(hopper.at("waves")) == 1);
}

TEST_CASE("the text report explains launch, occupancy, bound and time") {
  const auto r = warpsim(
      "kernel --gpu v100-sxm2 --op conv --batch 1 --in-channels 64 --out-channels 64 --size 56 "
      "--kernel 3 --stride 1 --padding 1 --dtype fp32");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  for (const char* s :
       {"v100-sxm2", "grid", "block", "registers/thread", "CTAs per wave", "limited by", "FLOP/B",
        "-bound", "simulated", "TFLOP/s", "GB/s", "% of achievable"})
    CHECK(r.output.find(s) != std::string::npos);
  // The answer first, on a line of its own that a script can read.
  REQUIRE(r.output.starts_with("time: "));
  const std::string first = r.output.substr(0, r.output.find('\n'));
  CHECK(first.ends_with(" ms"));
  CHECK(std::stod(first.substr(6)) > 0);

  // The other ops run too.
  for (const char* args : {"--op depthwise_conv --in-channels 128", "--op pool",
                           "--op pool_avg --kernel 2 --stride 2 --padding 0",
                           "--op elementwise --function mul --dtype bf16",
                           "--op elementwise --function neg", "--op gemm --batch 8 --m 512"}) {
    const auto o = warpsim(std::string("kernel --gpu a100-sxm4-80gb ") + args);
    CAPTURE(args);
    CAPTURE(o.output);
    CHECK(o.code == 0);
  }
}

TEST_CASE("a GPU yaml path works like its name") {
  const std::string file = std::string(WARPSIM_SOURCE) + "/configs/gpus/h100-sxm.yaml";
  const auto by_name = kernel_json("--gpu h100-sxm --op gemm --m 1024 --n 1024 --k 1024");
  const auto by_path = kernel_json("--gpu " + file + " --op gemm --m 1024 --n 1024 --k 1024");
  CHECK(json::serialize(by_name) == json::serialize(by_path));
}

TEST_CASE("--select fastest prices every tile and split-K and keeps the fastest") {
  // Llama-2-70B's down projection at M = 512 on an A100: the tile rule's 128 CTAs are 1.2
  // waves of 108 SMs; a split K fills them. Never slower than the rule, whatever the shape.
  const std::string shape = "--gpu a100-sxm4-80gb --op gemm --m 512 --n 8192 --k 28672";
  const double rule = num(kernel_json(shape).at("total_time_s"));
  const json::object fast = kernel_json(shape + " --select fastest");
  CHECK(num(fast.at("total_time_s")) < 0.8 * rule);
  CHECK(fast.at("kernels").as_array().size() == 2);  // the split K's reduction kernel
  for (const char* s : {"--m 1 --n 4096 --k 4096", "--m 16 --n 2560 --k 8192",
                        "--m 4096 --n 4096 --k 4096", "--op conv --batch 1"}) {
    CAPTURE(s);
    const std::string a = std::string("--gpu h100-sxm ") + s;
    CHECK(num(kernel_json(a + " --select fastest").at("total_time_s")) <=
          num(kernel_json(a).at("total_time_s")) * (1 + 1e-9));
  }
}

TEST_CASE("bad input exits 2 with one line") {
  struct Case {
    const char* args;
    const char* says;
  };
  for (const Case& c : {
           Case{"--gpu h100-sx --op gemm", "did you mean 'h100-sxm'"},
           Case{"--gpu h100-sxm --op gemm --m 0", "--m must be positive, got 0"},
           Case{"--gpu h100-sxm --op gemm --k=-3", "--k must be positive, got -3"},
           Case{"--gpu h100-sxm --op gemmm", "unknown op 'gemmm' (did you mean 'gemm'?)"},
           Case{"--gpu h100-sxm --op gemm --elements 5", "--elements does not apply to --op gemm"},
           Case{"--gpu h100-sxm --op elementwise --function ad", "did you mean 'add'"},
           Case{"--gpu h100-sxm --op gemm --dtype fp17", "fp17"},
           Case{"--gpu h100-sxm --op gemm --cost rooflin", "did you mean 'roofline'"},
           Case{"--gpu h100-sxm --op conv --size 2 --kernel 7 --padding 0", "does not fit"},
           Case{"--gpu h100-sxm --op gemm --set gpu.sm_cont=4", "did you mean 'sm_count'"},
           Case{"--gpu h100-sxm --op gemm --set gpu.sm_count=0", "sm_count"},
           Case{"--gpu h100-sxm --op gemm --m 2000000000 --n 2000000000", "too large"},
           Case{"--gpu no/such.yaml --op gemm", "no such file"},
           Case{"--gpu h100-sxm --op gemm --select best", "'best' is not heuristic or fastest"},
       }) {
    const auto r = warpsim(std::string("kernel ") + c.args);
    CAPTURE(c.args);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.says) != std::string::npos);
    CHECK(r.output.find("internal") == std::string::npos);
  }
}
