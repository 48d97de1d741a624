#include "sim/files.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace sim {

std::filesystem::path temp_sibling(const std::filesystem::path& path) {
  return path.string() + fmt::format(".tmp-{}", ::getpid());
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = temp_sibling(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp.string()));
    out << content;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("error writing {}", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace sim
