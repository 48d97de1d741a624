#pragma once
// JSON text -> the same position-carrying node tree that sim::parse_yaml builds, so that one
// reader (sim::Config: typed getters, unknown-key checks, "file:line:col" errors) serves both
// the YAML and the JSON form of a file.

#include <memory>
#include <string>

#include "sim/config.hpp"

namespace workloads {

// Parses with Boost.JSON; syntax errors and duplicate keys are sim::InputErrors at their
// line and column. Numbers keep their source text; true/false become "true"/"false".
std::shared_ptr<sim::ConfigNode> parse_json_nodes(const std::string& text,
                                                  const std::string& source_name);

}  // namespace workloads
