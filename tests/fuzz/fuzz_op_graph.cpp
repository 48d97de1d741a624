// The op-graph reader (docs/op-graph-format.md), YAML or JSON (a first '{').
#include "fuzz_support.hpp"
#include "workloads/op_graph_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzzing::text(data, size);
  const auto format = !in.empty() && in.front() == '{' ? workloads::GraphFormat::json
                                                       : workloads::GraphFormat::yaml;
  return fuzzing::expect_input_errors(
      [&] { workloads::parse_op_graph(in, format, "fuzz-graph").validate(); });
}
