// Parameters declared once: every schema's defaults parse as their declared types, and a reader
// reads only declared keys, takes the declared default and writes it into the config tree.
#include <doctest/doctest.h>

#include "interconnect/plugins.hpp"
#include "interconnect/system_spec.hpp"
#include "models/gpu_spec.hpp"
#include "models/host_runtime.hpp"
#include "models/memory/unified_memory.hpp"
#include "models/plugins.hpp"
#include "schedulers/plugins.hpp"
#include "sim/config.hpp"
#include "sim/params.hpp"
#include "sim/units.hpp"

namespace {

// A default of the declared type parses; one of another type would have failed at first use.
void check_defaults(const std::string& owner, const sim::ParamSchema& schema) {
  for (const sim::ParamSpec& p : schema) {
    CAPTURE(owner);
    CAPTURE(p.name);
    CHECK_FALSE(p.description.empty());
    const std::string& d = p.default_value;
    if (d.empty() || d == sim::kEmptyString) continue;
    if (p.type == "duration") CHECK_NOTHROW(sim::units::parse_duration(d));
    else if (p.type == "size") CHECK_NOTHROW(sim::units::parse_size(d));
    else if (p.type == "bandwidth") CHECK_NOTHROW(sim::units::parse_bandwidth(d));
    else if (p.type == "frequency") CHECK_NOTHROW(sim::units::parse_frequency(d));
    else if (p.type == "int") CHECK_NOTHROW(sim::Config(sim::parse_yaml(d, "t"), "").as_int());
    else if (p.type == "double") CHECK_NOTHROW(sim::Config(sim::parse_yaml(d, "t"), "").as_double());
    else if (p.type == "bool") CHECK_NOTHROW(sim::Config(sim::parse_yaml(d, "t"), "").as_bool());
    else if (p.type == "map" || p.type == "list") CHECK((d.front() == '{' || d.front() == '['));
  }
}

}  // namespace

TEST_CASE("every declared default parses as its type: specs and built-in plugins") {
  check_defaults("gpu", models::GpuSpec::schema());
  check_defaults("system", interconnect::SystemSpec::schema());
  check_defaults("link", interconnect::LinkSpec::schema());
  check_defaults("reduction", interconnect::ReductionSpec::schema());
  check_defaults("uvm", models::memory::UvmParams::schema());
  check_defaults("host", models::HostCosts::schema());
  sim::PluginCatalog catalog;
  models::register_models_plugins(catalog);
  interconnect::register_interconnect_plugins(catalog);
  schedulers::register_schedulers_plugins(catalog);
  for (const sim::RegistryBase* f : catalog.families())
    for (const sim::PluginInfo& e : f->list()) check_defaults(f->family() + "/" + e.name, e.params);
}

TEST_CASE("Params: declared defaults written into the tree, undeclared keys refused") {
  const sim::ParamSchema schema = {
      {"bandwidth", "bandwidth", "", "required"},
      {"latency", "duration", "5 us", "with a default"},
      {"costs", "list", "[trace, roofline]", "a list default"},
      {"extra", "map", "{}", "a section whose keys all have defaults"},
      {"extra.depth", "int", "2", "inside it"},
      {"note", "string", "", "for people"},
  };
  auto root = sim::parse_yaml("{bandwidth: 16 GB/s, note: hello}", "t.yaml");
  const sim::Params p(sim::Config(root, ""), schema);
  CHECK(p.bandwidth("bandwidth") == doctest::Approx(16e9));
  CHECK(p.duration("latency") == sim::Time::us(5));
  CHECK(p.value("costs").items().size() == 2);
  CHECK(p.section("extra").integer("depth", 1, 8) == 2);
  p.note("note");
  CHECK_NOTHROW(sim::check_unused(root));
  const std::string dumped = sim::dump_yaml(root);
  CHECK(dumped.find("latency: 5 us  # default") != std::string::npos);
  CHECK(dumped.find("depth: 2  # default") != std::string::npos);
  CHECK_THROWS_AS(p.string("undeclared"), std::logic_error);
  // A required key that is missing is the user's error, at its map.
  const sim::Params empty(sim::Config(sim::parse_yaml("{}", "e.yaml"), ""), schema);
  CHECK_THROWS_AS(empty.bandwidth("bandwidth"), sim::InputError);
}
