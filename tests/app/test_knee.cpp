// `warpsim knee`: latency against the GPU share a model may use, from the GPU model alone.
#include <doctest/doctest.h>

#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

using testing::read;
using testing::TempDir;

TEST_CASE("knee: latency falls with the GPU share, in steps, and the knee is reported") {
  TempDir d;
  const auto r = testing::warpsim("knee --gpu v100-sxm2 --model resnet18 --batch 1,16 --out " +
                                  (d.path() / "k").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("<- knee") != std::string::npos);
  const auto m = sim::metrics_from_json(read(d.path() / "k" / "metrics.json"), "metrics.json");
  for (const char* b : {"bs1", "bs16"}) {
    CAPTURE(b);
    const std::string key = std::string("knee.resnet18.") + b;
    const double whole = m.at(key + ".pct100.latency_ms");
    // More SMs never make it slower (within 1%: where the waves are equal, CTAs placed on
    // other SMs can finish a little later); a tenth of the GPU is several times slower than all of it.
    double last = 1e300;
    for (int pct = 10; pct <= 100; pct += 10) {
      const double t = m.at(key + ".pct" + std::to_string(pct) + ".latency_ms");
      CHECK(t <= last * 1.01);
      last = t;
    }
    CHECK(m.at(key + ".pct10.latency_ms") > 3 * whole);
    const double knee = m.at(key + ".knee_percent");
    CHECK(knee > 10);
    CHECK(knee < 100);
    CHECK(m.at(key + ".knee_latency_ms") <= 1.1 * whole);
  }
  CHECK(read(d.path() / "k" / "knee.csv").find("model,batch,gpu_percent,sms,latency_ms") == 0);
  // Bad input: exit 2, nothing written.
  CHECK(testing::warpsim("knee --gpu v100-sxm2 --model resnet81").code == 2);
  CHECK(testing::warpsim("knee --gpu v100-sxm2 --model resnet18 --batch 0").code == 2);
  CHECK(testing::warpsim("knee --gpu v100-sxm2 --model resnet18 --step 0").code == 2);
  CHECK(testing::warpsim("knee --gpu v100-sxm2 --model resnet18 --within lots --out " +
                         (d.path() / "bad").string()).code == 2);
  CHECK_FALSE(std::filesystem::exists(d.path() / "bad"));
}
