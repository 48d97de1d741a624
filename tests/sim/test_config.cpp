#include <doctest/doctest.h>

#include <string>

#include "sim/config.hpp"
#include "sim/nearest.hpp"
#include "../support/temp_dir.hpp"

using sim::Config;
using sim::ConfigLoader;
using testing::TempDir;

namespace {

// The message of the InputError that `f` throws, or "" if none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const sim::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("typed getters read values with units") {
  TempDir d;
  const auto f = d.write("s.yaml",
                         "name: x\n"
                         "sm_count: 132\n"
                         "ratio: 0.5\n"
                         "graph: true\n"
                         "memory:\n"
                         "  capacity: \"80 GiB\"\n"
                         "  bandwidth: 3.35 TB/s\n"
                         "clock: 1.98 GHz\n"
                         "latency: 4 us\n"
                         "peak: 989 TFLOP/s\n"
                         "list: [a, b]\n");
  ConfigLoader loader({d.path()});
  auto root = loader.load(f);
  Config c(root, "");
  CHECK(c.get_string("name") == "x");
  CHECK(c.get_int("sm_count") == 132);
  CHECK(c.get_double("ratio") == 0.5);
  CHECK(c.get_bool("graph"));
  CHECK(c.at("memory").get_size("capacity") == 80ull << 30);
  CHECK(c.at("memory").get_bandwidth("bandwidth") == doctest::Approx(3.35e12));
  CHECK(c.get_frequency("clock").hz() == doctest::Approx(1.98e9));
  CHECK(c.get_duration("latency") == sim::Time::us(4));
  CHECK(c.get_flops("peak") == doctest::Approx(989e12));
  CHECK(c.get_strings("list") == std::vector<std::string>{"a", "b"});
  CHECK(c.get_int("absent", 7) == 7);
  CHECK(c.get_duration("absent_latency", "2 ns") == sim::Time::ns(2));
  CHECK_NOTHROW(sim::check_unused(root));
}

TEST_CASE("bad values name file, line, column and the key path") {
  TempDir d;
  const auto f = d.write("s.yaml",
                         "gpu:\n"
                         "  sm_count: many\n"
                         "  memory: {bandwidth: \"-3 TB/s\"}\n"
                         "  clocks: {boost: 2 parsecs}\n"
                         "  range: 0\n");
  ConfigLoader loader({d.path()});
  Config c(loader.load(f), "");
  const std::string file = f.string();
  CHECK(error_of([&] { c.at("gpu").get_int("sm_count"); }) ==
        file + ":2:13: 'gpu.sm_count': expected an integer, got 'many'");
  CHECK(error_of([&] { c.at("gpu").at("memory").get_bandwidth("bandwidth"); })
            .starts_with(file + ":3:23: 'gpu.memory.bandwidth': '-3 TB/s': a bandwidth cannot be"));
  CHECK(error_of([&] { c.at("gpu").at("clocks").get_frequency("boost"); })
            .find("unknown frequency unit 'parsecs'") != std::string::npos);
  CHECK(error_of([&] { c.at("gpu").get_int_in("range", 1, 10); }) ==
        file + ":5:10: 'gpu.range': must be in [1, 10], got 0");
  CHECK(error_of([&] { c.at("gpu").get_int("sm_cnt"); })
            .find("missing required key 'sm_cnt'") != std::string::npos);
}

TEST_CASE("a misspelt required key is reported where the misspelling is") {
  auto root = sim::parse_yaml("name: x\nlinks:\n  - name: a\n    bandwdith: 1 GB/s\n", "s.yaml");
  const sim::Config c(root, "");
  const auto link = c.seq("links").at(0);
  CHECK_THROWS_WITH_AS(link.get_bandwidth("bandwidth"),
                       doctest::Contains("s.yaml:4:5: 'links.0': missing required key 'bandwidth' "
                                         "(found 'bandwdith' instead?)"),
                       sim::InputError);
  CHECK(sim::nearest_name("h100", {"h100-sxm", "a100-sxm4-40gb"}) == "h100-sxm");
  CHECK(sim::nearest_name("a100", {"a100-sxm4-40gb", "a100-sxm4-80gb"}).empty());  // two prefixes
}

TEST_CASE("unknown keys are rejected with the nearest key that was asked for") {
  TempDir d;
  const auto f = d.write("s.yaml",
                         "gpu:\n"
                         "  sm_cout: 80\n"
                         "  name: v100\n");
  ConfigLoader loader({d.path()});
  auto root = loader.load(f);
  Config c(root, "");
  const Config gpu = c.at("gpu");
  gpu.get_string("name");
  gpu.get_int("sm_count", 80);  // asked for, absent: it becomes a suggestion
  CHECK(error_of([&] { sim::check_unused(root); }) ==
        f.string() + ":2:3: unknown key 'sm_cout' in 'gpu' (did you mean 'sm_count'?)");
}

TEST_CASE("a whole unread section is reported at its key") {
  TempDir d;
  const auto f = d.write("s.yaml", "name: a\nextra:\n  x: 1\n");
  ConfigLoader loader({d.path()});
  auto root = loader.load(f);
  Config(root, "").get_string("name");
  CHECK(error_of([&] { sim::check_unused(root); }) ==
        f.string() + ":2:1: unknown key 'extra' at the top level");
}

TEST_CASE("extends deep-merges bases, the including file on top") {
  TempDir d;
  d.write("base.yaml", "a: 1\nnested: {x: 1, y: 2}\nlist: [1, 2]\n");
  d.write("mid.yaml", "extends: base.yaml\nb: 2\nnested: {y: 20}\n");
  const auto f = d.write("top.yaml", "extends: [mid]\nc: 3\nnested: {z: 30}\nlist: [9]\n");
  ConfigLoader loader({d.path()});
  Config c(loader.load(f), "");
  CHECK(c.get_int("a") == 1);
  CHECK(c.get_int("b") == 2);
  CHECK(c.get_int("c") == 3);
  CHECK(c.at("nested").get_int("x") == 1);
  CHECK(c.at("nested").get_int("y") == 20);
  CHECK(c.at("nested").get_int("z") == 30);
  CHECK(c.at("list").items().size() == 1);
  CHECK_FALSE(c.has("extends"));
}

TEST_CASE("references load named parts from the config directories") {
  TempDir d;
  d.write("gpus/h100-sxm.yaml", "sm_count: 132\n");
  d.write("gpus/a100.yaml", "sm_count: 108\n");
  const auto f = d.write("exp.yaml", "gpu: h100-sxm\n");
  ConfigLoader loader({d.path()});
  loader.add_reference("gpu", "gpus");
  Config c(loader.load(f), "");
  CHECK(c.at("gpu").get_int("sm_count") == 132);
  CHECK(c.at("gpu").get_string("name") == "h100-sxm");

  // Overrides reach into the referenced part, and can swap it.
  Config o(loader.load(f, {"gpu.sm_count=100"}), "");
  CHECK(o.at("gpu").get_int("sm_count") == 100);
  Config swapped(loader.load(f, {"gpu=a100"}), "");
  CHECK(swapped.at("gpu").get_int("sm_count") == 108);

  const auto bad = d.write("bad.yaml", "gpu: h100-sxn\n");
  CHECK(error_of([&] { loader.load(bad); }) ==
        bad.string() +
            ":1:6: unknown gpu 'h100-sxn' (did you mean 'h100-sxm'?); known: a100, h100-sxm");
}

TEST_CASE("a reference written as a file is read beside the config naming it") {
  TempDir d;
  d.write("gpus/h100-sxm.yaml", "sm_count: 132\n");
  d.write("exp/parts/mine.yaml", "sm_count: 100\n");
  const auto f = d.write("exp/run.yaml", "gpu: parts/mine.yaml\n");
  ConfigLoader loader({d.path()});
  loader.add_reference("gpu", "gpus");
  Config c(loader.load(f), "");
  CHECK(c.at("gpu").get_int("sm_count") == 100);
  CHECK(c.at("gpu").get_string("name") == "parts/mine.yaml");
  // From --set (or a sweep axis): relative to the working folder, or absolute.
  const auto abs = (d.path() / "exp" / "parts" / "mine.yaml").string();
  Config o(loader.load(d.write("exp/plain.yaml", "gpu: h100-sxm\n"), {"gpu=" + abs}), "");
  CHECK(o.at("gpu").get_int("sm_count") == 100);
  // A file that is nowhere is the usual unknown-reference error.
  CHECK(error_of([&] { loader.load(d.write("exp/no.yaml", "gpu: parts/none.yaml\n")); })
            .find("unknown gpu 'parts/none.yaml'") != std::string::npos);
}

TEST_CASE("a referenced part's own references expand, also when --set brings it in") {
  TempDir d;
  d.write("gpus/h100-sxm.yaml", "sm_count: 132\n");
  d.write("systems/pcie-4gpu.yaml", "gpu: h100-sxm\ngpus_per_node: 4\n");
  d.write("systems/loop-a.yaml", "system: loop-b\n");
  d.write("systems/loop-b.yaml", "system: loop-a\n");
  const auto f = d.write("exp.yaml", "systems:\n  - system: pcie-4gpu\n");
  ConfigLoader loader({d.path()});
  loader.add_reference("gpu", "gpus");
  loader.add_reference("system", "systems");
  Config c(loader.load(f), "");
  CHECK(c.seq("systems")[0].at("system").at("gpu").get_int("sm_count") == 132);
  // The list replaced by an override that names the system: its gpu expands too.
  Config o(loader.load(f, {"systems=[{system: pcie-4gpu}]"}), "");
  CHECK(o.seq("systems")[0].at("system").at("gpu").get_int("sm_count") == 132);
  // Two parts that refer to each other are an error, not a stack overflow.
  CHECK(error_of([&] { loader.load(f, {"systems=[{system: loop-a}]"}); })
            .find("reference cycle: system") != std::string::npos);
}

TEST_CASE("overrides set, create and index keys") {
  TempDir d;
  const auto f = d.write("s.yaml", "a: {b: 1}\nlist: [{x: 1}, {x: 2}]\n");
  ConfigLoader loader({d.path()});
  Config c(loader.load(f, {"a.b=5", "a.c=hello", "list.1.x=7", "new.deep.key=[1, 2]"}), "");
  CHECK(c.at("a").get_int("b") == 5);
  CHECK(c.at("a").get_string("c") == "hello");
  CHECK(c.seq("list")[1].get_int("x") == 7);
  CHECK(c.at("new").at("deep").at("key").items().size() == 2);
  CHECK(error_of([&] { loader.load(f, {"a.b.c=1"}); }) ==
        "--set a.b.c=1: 'a.b' is a value, not a map");
  CHECK(error_of([&] { loader.load(f, {"list.5.x=1"}); }).find("past the end") !=
        std::string::npos);
  CHECK(error_of([&] { loader.load(f, {"novalue"}); }).find("expected KEY=VALUE") !=
        std::string::npos);
}

TEST_CASE("malformed configuration files: each gives one clear error") {
  struct Case {
    const char* name;
    const char* text;
    const char* expected;  // substring of the message
  };
  const Case cases[] = {
      {"unclosed flow map", "a: {b: 1\n", "s.yaml:2:1: end of map flow not found"},
      {"bad indentation", "a:\n  b: 1\n c: 2\n", "s.yaml:3:"},
      {"duplicate key", "a: 1\na: 2\n", "s.yaml:2:1: duplicate key 'a'"},
      {"root is a list", "- 1\n- 2\n", "s.yaml:1:1: expected a map of settings"},
      {"tab indentation", "a:\n\tb: 1\n", "s.yaml:2:"},
      {"extends a missing file", "extends: nothere.yaml\n",
       "s.yaml:1:10: extends: cannot find 'nothere.yaml'"},
      {"extends itself", "extends: s.yaml\n", "extends cycle"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    TempDir d;
    const auto f = d.write("s.yaml", c.text);
    ConfigLoader loader({d.path()});
    const std::string e = error_of([&] { loader.load(f); });
    CHECK(e.find(c.expected) != std::string::npos);
    CAPTURE(e);
  }
  ConfigLoader loader({});
  CHECK(error_of([&] { loader.load("/nonexistent/x.yaml"); }) == "/nonexistent/x.yaml: no such file");
}

TEST_CASE("an extends cycle through two files is found") {
  TempDir d;
  d.write("a.yaml", "extends: b.yaml\n");
  d.write("b.yaml", "extends: a.yaml\n");
  ConfigLoader loader({d.path()});
  CHECK(error_of([&] { loader.load(d.path() / "a.yaml"); }).find("extends cycle") !=
        std::string::npos);
}

TEST_CASE("dump_yaml round-trips the resolved tree") {
  TempDir d;
  const auto f = d.write("s.yaml", "b: 2\na: {x: \"3.35 TB/s\", l: [1, two]}\nempty:\n");
  ConfigLoader loader({d.path()});
  const std::string text = sim::dump_yaml(loader.load(f));
  CHECK(text.find("b: 2") < text.find("a:"));  // key order kept
  const auto again = d.write("again.yaml", text);
  CHECK(sim::dump_yaml(loader.load(again)) == text);
}

TEST_CASE("find_path: a dotted path through maps and list indices, or null") {
  const auto root = sim::parse_yaml("links:\n  - {name: pcie, bandwidth: 16 GB/s}\ngpu: {sm: 80}\n", "t");
  REQUIRE(sim::find_path(root, "links.0.bandwidth"));
  CHECK(sim::find_path(root, "links.0.bandwidth")->scalar == "16 GB/s");
  CHECK(sim::find_path(root, "gpu.sm")->scalar == "80");
  CHECK_FALSE(sim::find_path(root, "links.1.name"));
  CHECK_FALSE(sim::find_path(root, "links.x"));
  CHECK_FALSE(sim::find_path(root, "gpu.sm.more"));
}
