#pragma once
// Error kinds the program maps to exit codes: InputError (bad input from the user: a config,
// a trace, a command-line value) exits 2; anything else is an internal failure and exits 1.

#include <stdexcept>
#include <string>

namespace sim {

// Where a value came from: a file position, or a pseudo-source such as "--set".
struct SourcePos {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string str() const;  // "file:line:col", "file", or "" when nothing is known
};

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
  InputError(const SourcePos& where, const std::string& what)
      : std::runtime_error(where.str().empty() ? what : where.str() + ": " + what) {}
};

}  // namespace sim
