// Inputs that would need more memory than a run may use fail early, with a clear message and
// exit 2, instead of being killed by the OS (docs/reliability.md). WARPSIM_MEMORY_LIMIT pins the
// budget, so the tests mean the same on any machine.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

namespace {

testing::ProgramResult limited(const std::string& limit, const std::string& args) {
  return testing::run_program("WARPSIM_MEMORY_LIMIT='" + limit + "' " + WARPSIM_EXE + " " + args);
}

void fails_early(const testing::ProgramResult& r, const std::string& says) {
  CAPTURE(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("would need about") != std::string::npos);
  CHECK(r.output.find(says) != std::string::npos);
}

}  // namespace

TEST_CASE("limits: 4 x 10^6 GPUs, a large trace, 10^8 requests fail before they allocate") {
  // 65,536 nodes of 64 GPUs, the most a system may have: 4.2 x 10^6 GPUs.
  fails_early(limited("4 GiB", "collective --system dgx-h100 --nodes 65536 --set gpus_per_node=64 "
                               "--bytes 1MiB"),
              "65536 nodes of 64 GPUs");
  fails_early(limited("64 KiB", std::string("replay ") + WARPSIM_SOURCE +
                                   "/tests/data/kineto/a100_simple_add.json.gz --gpu a100-sxm4-40gb"),
              "a100_simple_add.json.gz");
  testing::TempDir d;
  fails_early(limited("4 GiB", "serve --model llama2-7b --tp 1 --rate 1000 --count 100000000 --out " +
                                   (d.path() / "o").string()),
              "a stream of 1e+08 requests");
  CHECK_FALSE(std::filesystem::exists(d.path() / "o"));
  // Within the budget the same commands run.
  const auto ok = limited("4 GiB", "collective --system dgx-h100 --nodes 2 --bytes 1MiB");
  CAPTURE(ok.output);
  CHECK(ok.code == 0);
  // A bad budget is itself bad input.
  const auto bad = limited("lots", "collective --system dgx-h100 --bytes 1MiB");
  CHECK(bad.code == 2);
  CHECK(bad.output.find("WARPSIM_MEMORY_LIMIT") != std::string::npos);
}
