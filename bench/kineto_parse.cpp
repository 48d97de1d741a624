// Kineto trace reading speed: MB/s of decompressed JSON through parse_trace (Boost.JSON DOM +
// the typed walk + correlation linking), gunzip MB/s, and the replay builder. Best of N repeats
// (noise only ever slows a run).
//
//   build/bench/kineto_parse [--repeat N] [TRACE.json[.gz]...]   (default: tests/data/kineto)

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "workloads/kineto_trace.hpp"
#include "workloads/replay_workload.hpp"
#include "workloads/trace_file.hpp"

namespace {

double seconds_of(auto&& f, int repeat) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::stoi(argv[++i]));
    else
      files.emplace_back(a);
  }
  if (files.empty()) {
    const std::filesystem::path dir = std::filesystem::path(WARPSIM_SOURCE) / "tests/data/kineto";
    for (const char* f : {"a100_alexnet_train.json.gz", "a100_resnet_ddp2_rank0.json.gz",
                          "v100_dlrm_rank1.json.gz"})
      files.push_back(dir / f);
  }
  fmt::print("{:<34} {:>9} {:>12} {:>12} {:>12}\n", "trace", "JSON MB", "parse MB/s", "gunzip MB/s",
             "replay ms");
  double total_bytes = 0, total_parse = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string raw = std::move(ss).str();
    const bool gz = raw.size() > 2 && static_cast<unsigned char>(raw[0]) == 0x1f;
    std::string text;
    const double unzip =
        gz ? seconds_of([&] { text = workloads::gunzip(raw, path.string()); }, repeat) : 0;
    if (!gz) text = raw;
    workloads::kineto::Trace trace;
    const double parse =
        seconds_of([&] { trace = workloads::kineto::parse_trace(text, path.string()); }, repeat);
    std::size_t ops = 0;
    const double build =
        seconds_of([&] { ops = workloads::build_replay(trace).ops.size(); }, repeat);
    const double mb = static_cast<double>(text.size()) / 1e6;
    total_bytes += mb;
    total_parse += parse;
    fmt::print("{:<34} {:>9.1f} {:>12.0f} {:>12} {:>12.1f}   ({} device ops)\n",
               path.filename().string(), mb, mb / parse,
               gz ? fmt::format("{:.0f}", mb / unzip) : std::string("-"), build * 1e3, ops);
  }
  fmt::print("all: {:.1f} MB of JSON parsed at {:.0f} MB/s (best of {})\n", total_bytes,
             total_bytes / total_parse, repeat);
  return 0;
}
