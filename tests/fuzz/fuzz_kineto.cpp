// The Kineto trace reader: JSON text, or a gzip stream (read from a scratch .json.gz).
#include "fuzz_support.hpp"
#include "workloads/kineto_trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzzing::text(data, size);
  return fuzzing::expect_input_errors([&] {
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
      workloads::kineto::read_trace(fuzzing::write(fuzzing::scratch() / "trace.json.gz", in));
    else
      workloads::kineto::parse_trace(in, "fuzz.json");
  });
}
