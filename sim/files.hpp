#pragma once
// Files are written whole or not at all: content goes to a temporary sibling, then is renamed
// over the target, so a crash or a bad input never leaves half a result.

#include <filesystem>
#include <string>

namespace sim {

void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// A sibling temporary path unique to this process: "<path>.tmp-<pid>".
std::filesystem::path temp_sibling(const std::filesystem::path& path);

}  // namespace sim
