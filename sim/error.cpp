#include "sim/error.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "sim/invariant.hpp"

namespace sim {

std::string SourcePos::str() const {
  if (file.empty()) return {};
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

void invariant_broken(const char* condition, const char* what, const char* file, int line) {
  std::fprintf(stderr, "warpsim: model invariant broken at %s:%d: %s (%s)\n", file, line, what,
               condition);
  std::abort();
}

}  // namespace sim
