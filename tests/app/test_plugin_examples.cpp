// docs/plugins.md as a user follows it: warpsim installed (meson install into a staging root),
// every example built with the page's pkg-config line against that install, its commands run
// as written with the installed warpsim. Then what a policy CI relies on: the SJF and EDF
// examples order jobs as they claim, a plugin run's saved config re-runs byte-identically, and
// the sweep gate catches a changed policy.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "../support/run_program.hpp"
#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

namespace fs = std::filesystem;
using testing::read;
using testing::run_program;
using testing::TempDir;

namespace {

struct Block {
  std::string name;  // the example's file stem
  std::string text;
};

// The page's fenced blocks of one language whose first line matches `head` (group 1: the stem).
std::vector<Block> blocks(const std::string& doc, const std::string& lang, const std::regex& head) {
  std::vector<Block> out;
  const std::string open = "```" + lang + "\n";
  for (auto at = doc.find(open); at != std::string::npos; at = doc.find(open, at + 1)) {
    const auto begin = at + open.size();
    const auto end = doc.find("```", begin);
    const std::string text = doc.substr(begin, end - begin);
    std::smatch m;
    const std::string first = text.substr(0, text.find('\n'));
    if (std::regex_match(first, m, head)) out.push_back({m[1].str(), text});
  }
  return out;
}

fs::path find_file(const fs::path& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() == name) return e.path();
  return {};
}

// Every name an example registers (`.add("name", ...` and `add(\n "name"`).
std::vector<std::string> registered(const std::string& code) {
  static const std::regex add(R"re(\.add\(\s*"([^"]+)")re");
  std::vector<std::string> out;
  for (std::sregex_iterator it(code.begin(), code.end(), add), end; it != end; ++it)
    out.push_back((*it)[1].str());
  return out;
}

// The page's build line for example `stem` (it is written for my_experiment).
std::string build_line(std::string line, const std::string& stem) {
  const std::string own = "my_experiment";
  for (auto at = line.find(own); at != std::string::npos; at = line.find(own, at + stem.size()))
    line.replace(at, own.size(), stem);
  return line;
}

// The configs every run saved under `out` (each records the plugin specs it used).
std::string saved_configs(const fs::path& out) {
  std::string all;
  if (!fs::exists(out)) return all;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().filename() == "config.yaml") all += read(e.path());
  return all;
}

}  // namespace

TEST_CASE("docs/plugins.md: every family's example builds from an install and runs as written") {
  const std::string doc = read(fs::path(WARPSIM_SOURCE) / "docs" / "plugins.md");
  TempDir d;
  const fs::path stage = d.path() / "stage", work = d.path() / "work";
  auto r = run_program("meson install -C " + std::string(WARPSIM_BUILD) +
                       " --no-rebuild --quiet --destdir " + stage.string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const fs::path pc = find_file(stage, "warpsim.pc");
  const fs::path exe = find_file(stage, "warpsim");
  REQUIRE(!pc.empty());
  REQUIRE(!exe.empty());
  // The staged install as if it were at its prefix: pkg-config prefixes its paths with the
  // stage, the installed warpsim finds the checkout's configs from the working folder.
  const std::string env = "export PKG_CONFIG_PATH=" + pc.parent_path().string() +
                          " PKG_CONFIG_SYSROOT_DIR=" + stage.string() +
                          " PATH=" + exe.parent_path().string() + ":$PATH &&";
  fs::create_directories(work);
  fs::create_directory_symlink(fs::path(WARPSIM_SOURCE) / "configs", work / "configs");

  const std::string line =
      "g++ -shared $(pkg-config --cflags warpsim) my_experiment.cpp -o libmy_experiment.so";
  REQUIRE(doc.find(line) != std::string::npos);
  const auto sources = blocks(doc, "cpp", std::regex(R"(// (\w+)\.cpp)"));
  const auto runs = blocks(doc, "sh", std::regex(R"(# run (\w+)\.cpp)"));
  std::map<std::string, std::string> code;
  for (const Block& b : sources) code[b.name] = b.text;
  REQUIRE(code.size() == sources.size());
  REQUIRE(code.size() == runs.size());  // one run block per example, nothing run twice

  // Every family `warpsim list` knows has a row in the page's table.
  r = run_program(env + " warpsim list");
  REQUIRE(r.code == 0);
  static const std::regex family_line(R"(^([a-z-]+) — )");
  std::set<std::string> families;
  std::istringstream list(r.output);
  for (std::string l; std::getline(list, l);) {
    std::smatch m;
    if (std::regex_search(l, m, family_line) && l.find("(their keys") == std::string::npos &&
        m[1] != "specs" && m[1] != "decoders")
      families.insert(m[1].str());
  }
  CHECK(families.size() == 9);
  for (const std::string& f : families) {
    CAPTURE(f);
    CHECK(doc.find("| `" + f + "` |") != std::string::npos);
  }

  for (const Block& b : sources) {
    CAPTURE(b.name);
    std::ofstream(work / (b.name + ".cpp")) << b.text;
    r = run_program("cd " + work.string() + " && " + env + " " + build_line(line, b.name));
    CAPTURE(r.output);
    REQUIRE(r.code == 0);
  }
  for (const Block& b : runs) {
    CAPTURE(b.name);
    REQUIRE(code.count(b.name) == 1);
    std::ofstream(work / (b.name + ".sh")) << b.text;
    r = run_program("cd " + work.string() + " && " + env + " sh -e " + b.name + ".sh");
    CAPTURE(r.output);
    REQUIRE(r.code == 0);
    // What it registered was used: in what the commands printed or in a run's saved config.
    const std::string seen = r.output + saved_configs(work / "out");
    for (const std::string& name : registered(code[b.name])) {
      CAPTURE(name);
      CHECK(seen.find(name) != std::string::npos);
    }
  }

  // The orders claim what the page says of them.
  const auto m = sim::metrics_from_json(read(work / "out" / "orders" / "metrics.json"), "orders");
  const std::string cell = "barm.mixed.os1.0.sm8.";
  CHECK(m.at(cell + "sjf.mean_ms") < m.at(cell + "fifo.mean_ms"));
  CHECK(m.at(cell + "sjf.mean_ms") < m.at(cell + "edf.mean_ms"));
  CHECK(m.at(cell + "edf.miss_rate") < m.at(cell + "fifo.miss_rate"));
  CHECK(m.at(cell + "edf.miss_rate") < m.at(cell + "sjf.miss_rate"));

  // A plugin run's saved config re-runs by itself, byte-identically (a point of the run's
  // sweep: the run's own config.yaml re-runs the whole linked sweep).
  fs::path point;
  for (const auto& e : fs::directory_iterator(work / "out" / "sjf" / "sweeps" / "barm" / "points"))
    if (point.empty() || e.path() < point) point = e.path();
  REQUIRE(!point.empty());
  CHECK(read(point / "config.yaml").find("libsjf_edf.so") != std::string::npos);
  // The run's own config says how to re-run the whole run, the library included.
  CHECK(read(work / "out" / "sjf" / "config.yaml").find("--plugin '") != std::string::npos);
  r = run_program("cd " + work.string() + " && " + env + " warpsim run " +
                  (point / "config.yaml").string() + " --quiet --out out/sjf-again");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(read(point / "metrics.json") == read(work / "out" / "sjf-again" / "metrics.json"));

  // The gate catches a policy that changed: `sjf` rebuilt as longest-first regresses its point.
  std::string changed = code["sjf_edf"];
  const std::string sjf_order = "return a.job_seconds < b.job_seconds;";
  REQUIRE(changed.find(sjf_order) != std::string::npos);
  changed.replace(changed.find(sjf_order), sjf_order.size(), "return a.job_seconds > b.job_seconds;");
  std::ofstream(work / "sjf_edf.cpp") << changed;
  r = run_program("cd " + work.string() + " && " + env + " " + build_line(line, "sjf_edf") +
                  " && warpsim sweep " +
                  "orders.yaml --plugin ./libsjf_edf.so --out out/orders-changed");
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  r = run_program("cd " + work.string() + " && " + env +
                  " warpsim check out/orders-baseline out/orders-changed");
  CAPTURE(r.output);
  CHECK(r.code == 4);
  CHECK(r.output.find("sjf") != std::string::npos);
}
