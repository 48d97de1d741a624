#include "sim/files.hpp"

#include <signal.h>
#include <cerrno>

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/error.hpp"

namespace sim {

std::filesystem::path temp_sibling(const std::filesystem::path& path) {
  return path.string() + fmt::format(".tmp-{}", ::getpid());
}

bool is_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

bool is_folder(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

bool path_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::filesystem::path resolved(const std::filesystem::path& path) {
  std::error_code ec;
  auto r = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : r;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(SourcePos{path.string()}, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

void remove_dead_siblings(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) return;
  const std::string name = dir.filename().string();
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string f = e.path().filename().string();
    for (const char* tag : {".tmp-", ".old-"}) {
      const std::string prefix = name + tag;
      if (!f.starts_with(prefix)) continue;
      const std::string digits = f.substr(prefix.size());
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
      const auto pid = static_cast<pid_t>(std::stol(digits));
      // A process that no longer exists was killed before it could rename or clean up.
      if (::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
    }
  }
}

void write_folder_atomic(const std::filesystem::path& dir,
                         const std::function<void(const std::filesystem::path& tmp)>& fill) {
  namespace fs = std::filesystem;
  remove_dead_siblings(dir);
  const fs::path tmp = temp_sibling(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    fill(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  if (fs::exists(dir)) {
    const fs::path old = dir.string() + fmt::format(".old-{}", ::getpid());
    fs::rename(dir, old);
    fs::rename(tmp, dir);
    fs::remove_all(old);
  } else {
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
    fs::rename(tmp, dir);
  }
}

}  // namespace sim
