// End-to-end tests of the `warpsim` program: exit codes, results folders, determinism, plugins.
#include <doctest/doctest.h>

#include "../support/run_program.hpp"
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "../support/temp_dir.hpp"
#include "sim/stats.hpp"

namespace fs = std::filesystem;
using testing::read;
using testing::TempDir;

namespace {

testing::ProgramResult warpsim(const std::string& args) {
  return testing::run_program(std::string(WARPSIM_EXE) + " " + args);
}

// The engine demo: fast, and exercises randomness (its arrivals), so determinism is visible.
const std::string kTransfers = std::string(WARPSIM_SOURCE) + "/configs/experiments/transfers.yaml";
const std::string kQuickstart = std::string(WARPSIM_SOURCE) + "/configs/experiments/quickstart.yaml";

}  // namespace

TEST_CASE("a run writes a complete results folder") {
  TempDir d;
  const auto out = d.path() / "res";
  const auto r = warpsim("run " + kTransfers + " --out " + out.string() + " --timeline " +
                         (d.path() / "t.json").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  for (const char* f : {"metrics.json", "stats.csv", "config.yaml", "report.md"})
    CHECK(fs::exists(out / f));
  CHECK(fs::exists(d.path() / "t.json"));
  CHECK(read(out / "metrics.json").find("\"transfers.makespan_us\"") != std::string::npos);
  CHECK(read(out / "config.yaml").find("seed: 1") != std::string::npos);
  // No temporary left behind.
  CHECK(std::distance(fs::directory_iterator(d.path()), {}) == 2);

  // The saved config re-runs to the same metrics.
  const auto again = d.path() / "again";
  REQUIRE(warpsim("run " + (out / "config.yaml").string() + " --quiet --out " + again.string())
              .code == 0);
  CHECK(read(again / "metrics.json") == read(out / "metrics.json"));

  // A re-run replaces its results folder; a folder holding anything else is never clobbered.
  REQUIRE(warpsim("run " + kTransfers + " --quiet --out " + out.string()).code == 0);
  d.write("res/notes.txt", "mine");
  const auto refused = warpsim("run " + kTransfers + " --quiet --out " + out.string());
  CHECK(refused.code == 2);
  CHECK(refused.output.find("holds 'notes.txt'") != std::string::npos);
  CHECK(read(out / "notes.txt") == "mine");
}

TEST_CASE("the saved config holds every value the run used, code defaults included") {
  TempDir d;
  const auto out = d.path() / "q";
  REQUIRE(warpsim("run " + kQuickstart + " --point --quiet --out " + out.string()).code == 0);
  const std::string saved = read(out / "config.yaml");
  // Defaults of a plugin written as a bare name (nimble's matching), of a plugin's map
  // (roofline), of the GPU preset and of the host preset, each marked as a default.
  for (const char* k : {"matching: meg  # default", "warps_to_saturate: 8  # default",
                        "cta_launch: 100 ns  # default", "graph_node: 0 ns  # default"}) {
    CAPTURE(k);
    CHECK(saved.find(k) != std::string::npos);
  }
  // It re-runs to the same metrics, and what it says is what runs: a changed default there
  // changes the result.
  const auto again = d.path() / "again";
  REQUIRE(warpsim("run " + (out / "config.yaml").string() + " --quiet --out " + again.string())
              .code == 0);
  CHECK(read(again / "metrics.json") == read(out / "metrics.json"));
  const auto edited = d.path() / "edited";
  REQUIRE(warpsim("run " + (out / "config.yaml").string() +
                  " --quiet --set kernel_cost.cta_fixed='5 us' --out " + edited.string())
              .code == 0);
  CHECK(read(edited / "metrics.json") != read(out / "metrics.json"));

  // A run of the sweeps an experiment names saves its file with the sweeps by absolute path:
  // it re-runs from the results folder to the same metrics.
  const auto all = d.path() / "all", rerun = d.path() / "rerun";
  REQUIRE(warpsim("run " + kQuickstart + " --quiet --out " + all.string()).code == 0);
  REQUIRE(warpsim("run " + (all / "config.yaml").string() + " --quiet --out " + rerun.string())
              .code == 0);
  CHECK(read(rerun / "metrics.json") == read(all / "metrics.json"));
}

TEST_CASE("every shipped experiment's --timeline shows its work as Chrome trace events") {
  TempDir d;
  const std::string root = WARPSIM_SOURCE;
  const std::pair<const char*, const char*> runs[] = {
      {"transfers", ""},
      {"quickstart", ""},
      {"nimble", "--set model=[mobilenet_v2] --set batch=[32] --set policy=[nimble]"
                 " --set timeline_run=inference.mobilenet_v2.nimble"},
      {"barm", "--set taskset=[light] --set oversubscription=[0.5] --set sms=[8]"
               " --set 'policy=[fifo]'"},
      {"innetwork_allreduce", "--set 'system=[pcie-4gpu]' --set 'model=[vgg16]' --set batch=[2]"
                              " --set bucket=[5MiB] --set bytes=[4096]"},
      {"trace_validation", "--set cost=[trace]"},
  };
  for (const auto& run : runs) {
    const auto& name = run.first;  // named: CAPTURE's lambda captures it (clang 14)
    const auto& args = run.second;
    CAPTURE(name);
    const auto t = d.path() / (std::string(name) + ".json");
    const auto r = warpsim("run " + root + "/configs/experiments/" + name + ".yaml --quiet --out " +
                           (d.path() / name).string() + " --timeline " + t.string() + " " + args);
    CAPTURE(r.output);
    REQUIRE(r.code == 0);
    const auto doc = boost::json::parse(read(t)).as_object();
    std::size_t spans = 0;
    for (const auto& e : doc.at("traceEvents").as_array()) {
      const auto& ev = e.as_object();
      const std::string ph(ev.at("ph").as_string());
      CHECK(ev.contains("pid"));
      if (ph == "X") {
        ++spans;
        CHECK(ev.at("dur").to_number<double>() >= 0);
        CHECK(ev.contains("ts"));
      }
    }
    CHECK(spans > 0);
  }
  // A timeline_run that names no point is said, not written as an empty file.
  const auto bad = warpsim("run " + root + "/configs/experiments/quickstart.yaml --quiet --out " +
                           (d.path() / "bad").string() + " --timeline " +
                           (d.path() / "bad.json").string() + " --set timeline_run=nope");
  CHECK(bad.code == 2);
  CHECK(bad.output.find("timeline_run 'nope' names no point") != std::string::npos);
  CHECK_FALSE(fs::exists(d.path() / "bad.json"));
}

TEST_CASE("results.csv: one tidy row per point, agreeing with metrics.json to the last digit") {
  TempDir d;
  const std::string root = WARPSIM_SOURCE;
  const std::pair<const char*, const char*> runs[] = {
      {"quickstart", ""},
      {"barm", "--set taskset=[light] --set oversubscription=[0.5] --set sms=[8]"
               " --set 'policy=[fifo, barm]'"},
  };
  for (const auto& run : runs) {
    const auto& name = run.first;  // named: CAPTURE's lambda captures it (clang 14)
    const auto& args = run.second;
    CAPTURE(name);
    const auto out = d.path() / name;
    REQUIRE(warpsim("run " + root + "/configs/experiments/" + name + ".yaml --quiet --out " +
                    out.string() + " " + args)
                .code == 0);
    // metrics.json as text, key -> the number as written (to compare digits, not doubles).
    std::map<std::string, std::string> metrics;
    {
      std::istringstream json(read(out / "metrics.json"));
      for (std::string l; std::getline(json, l);) {
        const auto q1 = l.find('"'), q2 = l.find('"', q1 + 1);
        if (q1 == std::string::npos || q2 == std::string::npos) continue;
        std::string v = l.substr(l.find(": ", q2) + 2);
        if (!v.empty() && v.back() == ',') v.pop_back();
        metrics[l.substr(q1 + 1, q2 - q1 - 1)] = v;
      }
    }
    std::istringstream csv(read(out / "results.csv"));
    std::string line;
    std::getline(csv, line);
    auto split = [](const std::string& s) {
      std::vector<std::string> cells;
      std::string cell;
      std::istringstream in(s);
      while (std::getline(in, cell, ',')) cells.push_back(cell);
      if (!s.empty() && s.back() == ',') cells.emplace_back();
      return cells;
    };
    const auto header = split(line);
    REQUIRE(header.at(0) == "point");
    std::size_t rows = 0, numbers = 0;
    while (std::getline(csv, line)) {
      const auto cells = split(line);
      REQUIRE(cells.size() == header.size());
      ++rows;
      for (std::size_t c = 1; c < cells.size(); ++c) {
        const auto it = metrics.find(cells[0] + "." + header[c]);
        if (it == metrics.end() || cells[c].empty()) continue;  // a parameter, or not this row's
        ++numbers;
        CHECK(cells[c] == it->second);
      }
    }
    CHECK(rows >= 2);
    CHECK(numbers >= 4);
  }
}

TEST_CASE("same seed: identical metrics and timeline bytes; another seed differs") {
  TempDir d;
  auto run = [&](const std::string& name, int seed) {
    const auto r = warpsim("run " + kTransfers + " --quiet --seed " + std::to_string(seed) +
                           " --out " + (d.path() / name).string() + " --timeline " +
                           (d.path() / (name + ".json")).string());
    REQUIRE(r.code == 0);
    return std::make_pair(read(d.path() / name / "metrics.json"),
                          read(d.path() / (name + ".json")));
  };
  const auto a = run("a", 5), b = run("b", 5), c = run("c", 6);
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
  CHECK(a.first != c.first);
}

TEST_CASE("bad input exits 2 with a located message and writes nothing") {
  TempDir d;
  struct Case {
    std::string name;
    std::string yaml;       // scenario text ("" = do not write a file)
    std::string extra;      // extra arguments
    std::string expected;   // substring of the message
  };
  const std::string base =
      "experiment: transfers\nlinks: [{name: l, bandwidth: \"10 GB/s\"}]\n"
      "transfers: [{name: t, path: [l], bytes: \"1 MiB\"}]\n";
  const Case cases[] = {
      {"unknown key", base + "sed: 3\n", "", "s.yaml:4:1: unknown key 'sed' at the top level (did you mean 'seed'?)"},
      {"nested unknown key", "experiment: transfers\nlinks: [{name: l, bandwith: \"10 GB/s\"}]\n",
       "", "s.yaml:2:19: 'links.0': missing required key 'bandwidth' (found 'bandwith' instead?)"},
      {"malformed yaml", "experiment: [transfers\n", "", "s.yaml:2:1:"},
      {"negative size", "experiment: transfers\nlinks: [{name: l, bandwidth: \"10 GB/s\"}]\n"
                        "transfers: [{name: t, path: [l], bytes: \"-1 MiB\"}]\n",
       "", "s.yaml:3:41: 'transfers.0.bytes': '-1 MiB': a size cannot be negative"},
      {"unknown experiment", "experiment: transfer\n", "",
       "s.yaml:1:13: 'experiment': unknown experiment 'transfer' (did you mean 'transfers'?)"},
      {"unknown link", "experiment: transfers\nlinks: [{name: l, bandwidth: \"10 GB/s\"}]\n"
                       "transfers: [{name: t, path: [m], bytes: 1 MiB}]\n",
       "", "s.yaml:3:30: 'transfers.0.path.0': unknown link 'm'"},
      {"bad override", base, "--set seed=abc", "--set seed=abc: 'seed': expected an integer"},
      {"override of a value", base, "--set links.0.name.x=1", "'links.0.name' is a value"},
      {"negative seed", base, "--seed -1", "--seed takes a whole number from 0 to"},
      {"timeline inside the results", base, "--timeline " + (d.path() / "out" / "t.json").string(),
       "is inside the results folder"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const auto f = d.write("s.yaml", c.yaml);
    const auto out = d.path() / "out";
    const auto r = warpsim("run " + f.string() + " --out " + out.string() + " " + c.extra);
    CAPTURE(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find(c.expected) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);  // one line
    CHECK_FALSE(fs::exists(out));
  }
  const auto missing = warpsim("run " + (d.path() / "none.yaml").string());
  CHECK(missing.code == 2);
  CHECK(missing.output.find("none.yaml: no such file") != std::string::npos);
  CHECK(warpsim("run").code == 2);           // missing argument
  CHECK(warpsim("frobnicate").code == 2);    // unknown subcommand
  CHECK(warpsim("list nothing-here").code == 2);
}

TEST_CASE("a failed run leaves the previous results untouched") {
  TempDir d;
  const auto out = d.path() / "res";
  REQUIRE(warpsim("run " + kTransfers + " --quiet --out " + out.string()).code == 0);
  const std::string before = read(out / "metrics.json");
  CHECK(warpsim("run " + kTransfers + " --quiet --out " + out.string() +
                " --set links.0.bandwidth=fast")
            .code == 2);
  CHECK(read(out / "metrics.json") == before);
}

TEST_CASE("version, help and list") {
  auto v = warpsim("--version");
  CHECK(v.code == 0);
  CHECK(v.output.find("warpsim ") != std::string::npos);
  CHECK(warpsim("--help").code == 0);
  CHECK(warpsim("run --help").code == 0);
  CHECK(warpsim("list --help").code == 0);
  auto l = warpsim("list");
  CHECK(l.code == 0);
  CHECK(l.output.find("transfers") != std::string::npos);
  auto le = warpsim("list experiment");
  CHECK(le.output.find("links") != std::string::npos);  // params shown for one family
}

TEST_CASE("--plugin adds an experiment from a shared library") {
  TempDir d;
  const auto f = d.write("hello.yaml", "experiment: hello\nhops: 5\n");
  const std::string plugin = std::string("--plugin ") + WARPSIM_HELLO_PLUGIN;
  const auto r = warpsim(plugin + " run " + f.string() + " --out " + (d.path() / "o").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find("hello from a plugin") != std::string::npos);
  CHECK(read(d.path() / "o" / "metrics.json").find("\"hello.hops\": 5") != std::string::npos);
  auto l = warpsim(plugin + " list experiment");
  CHECK(l.output.find("hello") != std::string::npos);
  CHECK(l.output.find("libwarpsim_hello_plugin.so") != std::string::npos);
  // Without the plugin, the experiment is unknown.
  CHECK(warpsim("run " + f.string()).code == 2);
  // --plugin after the subcommand works the same.
  CHECK(warpsim("list experiment " + plugin).output.find("hello") != std::string::npos);
}

TEST_CASE("docs/plugins.md's example builds with its from-a-checkout command line and runs") {
  // The page's C++ block and its from-a-checkout g++ line, as written there (the pkg-config
  // line, and the other examples: test_plugin_examples.cpp).
  std::ifstream page(std::string(WARPSIM_SOURCE) + "/docs/plugins.md");
  std::stringstream text;
  text << page.rdbuf();
  const std::string doc = text.str();
  const auto begin = doc.find("```cpp\n// my_experiment.cpp\n");
  REQUIRE(begin != std::string::npos);
  const auto code = doc.substr(begin + 7, doc.find("```", begin + 7) - begin - 7);
  const std::string line =
      "g++ -std=c++20 -fPIC -shared -I/path/to/warpsim my_experiment.cpp -o libmy_experiment.so";
  REQUIRE(doc.find(line) != std::string::npos);
  TempDir d;
  d.write("my_experiment.cpp", code);
  std::string build = line;
  build.replace(build.find("/path/to/warpsim"), 16, WARPSIM_SOURCE);
  const auto b = testing::run_program("cd " + d.path().string() + " && " + build);
  CAPTURE(b.output);
  REQUIRE(b.code == 0);
  const auto cfg = d.write("mine.yaml", "experiment: mine\nn: 4\n");
  const auto r = warpsim("run " + cfg.string() + " --plugin " +
                         (d.path() / "libmy_experiment.so").string() + " --quiet --out " +
                         (d.path() / "o").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(read(d.path() / "o" / "metrics.json").find("\"mine.n\": 4") != std::string::npos);
}

TEST_CASE("a plugin run's saved config re-runs it; clashes and stale plugins are bad input") {
  TempDir d;
  const std::string hello = WARPSIM_HELLO_PLUGIN;
  const auto f = d.write("hello.yaml", "experiment: hello\nhops: 5\n");
  REQUIRE(warpsim("--plugin " + hello + " run " + f.string() + " --quiet --out " +
                  (d.path() / "a").string()).code == 0);
  const std::string saved = read(d.path() / "a" / "config.yaml");
  CHECK(saved.find("plugins:") != std::string::npos);
  CHECK(saved.find(hello) != std::string::npos);
  // The saved config loads its plugin itself: byte-identical metrics, no --plugin given.
  auto r = warpsim("run " + (d.path() / "a" / "config.yaml").string() + " --quiet --out " +
                   (d.path() / "b").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  CHECK(read(d.path() / "a" / "metrics.json") == read(d.path() / "b" / "metrics.json"));
  const auto plugins_of = [](const std::string& c) { return c.substr(c.find("plugins:")); };
  CHECK(plugins_of(read(d.path() / "b" / "config.yaml")) == plugins_of(saved));
  // The same library twice, or a copy of it: harmless.
  const auto copy = d.path() / "copy.so";
  std::filesystem::copy_file(hello, copy);
  r = warpsim("--plugin " + hello + " --plugin " + hello + " --plugin " + copy.string() +
              " list experiment");
  CAPTURE(r.output);
  CHECK(r.code == 0);
  // A library that changed since the config was saved is reported (and still runs).
  std::string edited = saved;
  const auto at = edited.find("hash: \"");
  REQUIRE(at != std::string::npos);
  edited.replace(at + 7, 16, "0123456789abcdef");
  const auto stale_cfg = d.write("edited.yaml", edited);
  r = warpsim("run " + stale_cfg.string() + " --quiet --out " + (d.path() / "c").string());
  CHECK(r.code == 0);
  CHECK(r.output.find("changed since this file was saved") != std::string::npos);
  // A name another library registered: exit 2 naming both.
  r = warpsim("--plugin " + hello + " --plugin " + std::string(WARPSIM_CLASH_PLUGIN) +
              " list experiment");
  CHECK(r.code == 2);
  CHECK(r.output.find("experiment 'hello' is registered twice: by libwarpsim_hello_plugin.so "
                      "and by libwarpsim_clash_plugin.so") != std::string::npos);
  CHECK(r.output.find("internal") == std::string::npos);
  // Built against another warpsim version: refused before it runs.
  r = warpsim("--plugin " + std::string(WARPSIM_STALE_PLUGIN) + " list experiment");
  CHECK(r.code == 2);
  CHECK(r.output.find("built against warpsim 0.0.1, not warpsim 0.1.0") != std::string::npos);
}

TEST_CASE("the README's quickstart: ResNet-50 on H100, nimble faster than eager") {
  TempDir d;
  const auto out = d.path() / "q";
  const auto r = warpsim("run " + kQuickstart + " --out " + out.string() + " --timeline " +
                         (d.path() / "q.json").string());
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  const auto m = sim::metrics_from_json(read(out / "metrics.json"), "metrics.json");
  CHECK(m.at("inference.resnet50.nimble.speedup_vs_eager") > 1.5);
  CHECK(m.at("inference.resnet50.nimble.streams") > 1);
  const std::string timeline = read(d.path() / "q.json");
  CHECK(timeline.find("stream 1") != std::string::npos);
  CHECK(timeline.find("SMs busy") != std::string::npos);
}
