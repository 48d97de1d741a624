// Golden tests: each run listed in tests/golden/runs.txt must match its committed baseline
// through `warpsim check` (the same gate a user puts in their CI, docs/regression-gate.md).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"

using testing::TempDir;

TEST_CASE("the shipped experiments at reduced sizes match their golden metrics") {
  const std::string root = WARPSIM_SOURCE;
  std::ifstream runs(root + "/tests/golden/runs.txt");
  REQUIRE(runs);
  TempDir d;
  std::string tolerance = "0%";
  int checked = 0;
  for (std::string line; std::getline(runs, line);) {
    std::istringstream words(line);
    std::string name, scenario, args, w;
    if (!(words >> name) || name.starts_with("#")) continue;
    if (name == "tolerance") {
      words >> tolerance;
      continue;
    }
    words >> scenario;
    while (words >> w) args += " '" + w + "'";
    SUBCASE(name.c_str()) {
      const std::string out = (d.path() / name).string();
      const auto run = testing::warpsim("run " + root + "/" +
                                             scenario + args + " --quiet --out " + out);
      CAPTURE(run.output);
      REQUIRE(run.code == 0);
      const auto check = testing::warpsim("check " + root +
                                              "/tests/golden/" + name + ".json " + out +
                                              " --tolerance " + tolerance);
      INFO("regenerate with scripts/update_goldens.sh if the change is intended");
      CAPTURE(check.output);
      CHECK(check.code == 0);
    }
    ++checked;
  }
  CHECK(checked >= 3);
}
