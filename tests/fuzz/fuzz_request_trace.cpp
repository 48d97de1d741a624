// The request-trace reader (Splitwise CSVs: arrived_at, num_prefill_tokens, num_decode_tokens).
#include "fuzz_support.hpp"
#include "workloads/request_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = fuzzing::write(fuzzing::scratch() / "requests.csv", fuzzing::text(data, size));
  return fuzzing::expect_input_errors([&] { workloads::read_request_trace(file); });
}
