// Sweep files (docs/sweeps.md): written as <scratch>/sweeps/fuzz.yaml beside a link to the
// shipped experiments, so `scenario: ../experiments/x.yaml` resolves as in configs/sweeps/.
#include "app/sweep_spec.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool linked = [] {
    const auto link = fuzzing::scratch() / "experiments";
    std::error_code ec;
    std::filesystem::create_directory_symlink(fuzzing::configs() / "experiments", link, ec);
    return true;
  }();
  (void)linked;
  const auto file = fuzzing::write(fuzzing::scratch() / "sweeps" / "fuzz.yaml",
                                   fuzzing::text(data, size));
  return fuzzing::expect_input_errors([&] { app::load_sweep(file); });
}
