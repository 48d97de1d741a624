#pragma once
// What every fuzz target shares: the input as text, a scratch file for readers that take a
// path, and the one outcome that is expected of bad input -- sim::InputError. Anything else
// (a crash, a sanitizer report, another exception, a hang) is a finding: libFuzzer stops there
// and keeps the input.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/error.hpp"

namespace fuzzing {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A folder of this process's own under the temporary directory (made once).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("warpsim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write(const std::filesystem::path& file, const std::string& bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  return file;
}

// Runs `f`; bad input (sim::InputError) is the expected answer to most inputs.
template <class F>
int expect_input_errors(F&& f) {
  try {
    f();
  } catch (const sim::InputError&) {
  }
  return 0;
}

// The shipped configuration library (configs/), for `extends:` and named references.
inline std::filesystem::path configs() { return std::filesystem::path(WARPSIM_SOURCE) / "configs"; }

}  // namespace fuzzing
