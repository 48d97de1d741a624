#include <doctest/doctest.h>

#include <string>

#include "greeter.hpp"
#include "sim/slots.hpp"
#include "../support/temp_dir.hpp"

namespace {

class Polite final : public testing::Greeter {
 public:
  std::string greet(const std::string& who) const override { return "Hello, " + who + "."; }
};

sim::Config config_of(const std::string& yaml) {
  return sim::Config(sim::parse_yaml(yaml, "test.yaml"), "");
}

void register_builtin(sim::PluginCatalog& c) {
  testing::greeters(c).add("polite", "greets politely", {},
                           [](const sim::Config&) { return std::make_unique<Polite>(); });
}

}  // namespace

TEST_CASE("registry creates by name and lists entries with their schema") {
  sim::PluginCatalog c;
  register_builtin(c);
  auto& g = testing::greeters(c);
  CHECK(g.create("polite", config_of("{}"))->greet("Ada") == "Hello, Ada.");
  auto list = g.list();
  REQUIRE(list.size() == 1);
  CHECK(list[0].description == "greets politely");
  CHECK(list[0].origin == "built-in");
  CHECK(c.find("greeter") == &g);
  CHECK(c.find("nope") == nullptr);
}

TEST_CASE("unknown names suggest the nearest; duplicates and wrong types are caught") {
  sim::PluginCatalog c;
  register_builtin(c);
  auto& g = testing::greeters(c);
  try {
    g.create("polit", config_of("{}"));
    FAIL("expected an error");
  } catch (const sim::InputError& e) {
    CHECK(std::string(e.what()) == "unknown greeter 'polit' (did you mean 'polite'?); known: polite");
  }
  // With the name read from a config value, the error points at it.
  auto cfg = config_of("kind: shouty\n");
  try {
    g.create(cfg.at("kind"), cfg);
    FAIL("expected an error");
  } catch (const sim::InputError& e) {
    CHECK(std::string(e.what()).starts_with("test.yaml:1:7: 'kind': unknown greeter 'shouty'"));
  }
  // A name taken twice is bad input naming both origins (two plugins may well clash).
  CHECK_THROWS_WITH_AS(register_builtin(c),
                       "greeter 'polite' is registered twice: by built-in and by built-in; "
                       "rename one",
                       sim::InputError);
  using Other = sim::Registry<testing::Greeter>;
  CHECK_THROWS_AS(c.family<Other>("greeter"), std::logic_error);
}

TEST_CASE("a plugin library adds entries to an existing family") {
  sim::PluginCatalog c;
  register_builtin(c);
  c.load_plugin(WARPSIM_TEST_PLUGIN);
  auto& g = testing::greeters(c);
  CHECK(g.names() == std::vector<std::string>{"polite", "shouter"});
  CHECK(g.create("shouter", config_of("marks: 3"))->greet("Ada") == "HELLO Ada!!!");
  for (const auto& e : g.list())
    CHECK(e.origin == (e.name == "shouter" ? std::filesystem::path(WARPSIM_TEST_PLUGIN)
                                                 .filename()
                                                 .string()
                                           : "built-in"));
}

TEST_CASE("loading something that is not a plugin is a clear input error") {
  sim::PluginCatalog c;
  CHECK_THROWS_WITH_AS(c.load_plugin("/nonexistent/libx.so"),
                       "/nonexistent/libx.so: plugin library not found", sim::InputError);
  testing::TempDir d;
  const auto junk = d.write("libjunk.so", "not an ELF file");
  CHECK_THROWS_AS(c.load_plugin(junk), sim::InputError);
}

TEST_CASE("slots reuse released ids and hand out fresh objects") {
  struct Item {
    int value = 0;
  };
  sim::Slots<Item> slots;
  const auto a = slots.acquire(), b = slots.acquire();
  CHECK(a != b);
  slots[a].value = 7;
  slots[b].value = 8;
  slots.release(a);
  const auto c = slots.acquire();
  CHECK(c == a);               // the released id comes back
  CHECK(slots[c].value == 0);  // as a fresh object
  CHECK(slots[b].value == 8);
  CHECK(slots.size() == 2);
}

TEST_CASE("a plugin is written as a bare name or as {name, params, label}") {
  sim::PluginCatalog c;
  register_builtin(c);
  auto& g = testing::greeters(c);
  const sim::Config cfg = config_of("{a: polite, b: {name: polite, label: kind}, c: {name: rude}}");
  CHECK(g.create_from(cfg.at("a"))->greet("Ada") == "Hello, Ada.");
  CHECK(g.create_from(cfg.at("b"))->greet("Ada") == "Hello, Ada.");
  CHECK(sim::plugin_label(cfg.at("a")) == "polite");
  CHECK(sim::plugin_label(cfg.at("b")) == "kind");
  CHECK_THROWS_WITH_AS(g.create_from(cfg.at("c")), doctest::Contains("test.yaml"), sim::InputError);
}

TEST_CASE("the plugin ABI stamp is the project version") {
  CHECK(std::string(WARPSIM_PLUGIN_ABI) == std::string("warpsim ") + WARPSIM_VERSION);
}
