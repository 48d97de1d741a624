#pragma once
// Runs a command line (the real `warpsim` binary, in end-to-end tests) and captures its exit code
// and its stdout and stderr together.

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace testing {

struct ProgramResult {
  int code;            // exit status, -1 if it did not exit normally
  std::string output;  // stdout and stderr
};

inline ProgramResult run_program(const std::string& command_line) {
  const std::string cmd = command_line + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

#ifdef WARPSIM_EXE
// The program under test (tests/app): `warpsim <args>`.
inline ProgramResult warpsim(const std::string& args) {
  return run_program(std::string(WARPSIM_EXE) + " " + args);
}
#endif

}  // namespace testing
