// The YAML config loader: `extends:` (resolved against the shipped configs/), named references
// (gpu: h100-sxm -> configs/gpus/), and a `--set` override taken from the input's first line
// ("a.b=v"); then typed reads through the GPU and system schemas.
#include "fuzz_support.hpp"
#include "interconnect/system_spec.hpp"
#include "models/gpu_spec.hpp"
#include "sim/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = fuzzing::text(data, size);
  const auto nl = in.find('\n');
  std::vector<std::string> overrides;
  std::string yaml = in;
  if (nl != std::string::npos && in.find('=') < nl && in.rfind("#", 0) != 0) {
    overrides.push_back(in.substr(0, nl));
    yaml = in.substr(nl + 1);
  }
  return fuzzing::expect_input_errors([&] {
    sim::ConfigLoader loader({fuzzing::configs()});
    loader.add_reference("gpu", "gpus");
    loader.add_reference("system", "systems");
    loader.add_reference("host", "hosts");
    const auto root = loader.load_text(yaml, (fuzzing::configs() / "fuzz.yaml").string(), overrides);
    const sim::Config c(root, "");
    if (root->find("gpus_per_node"))
      interconnect::SystemSpec::from_config(c);
    else if (root->find("sm_count"))
      models::GpuSpec::from_config(c);
  });
}
