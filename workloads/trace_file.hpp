#pragma once
// Reads a whole trace file into memory, gunzipping it when it is gzip (by its magic bytes, not
// its name). Truncated or corrupt gzip, and unreadable files, are sim::InputErrors naming the file.

#include <filesystem>
#include <string>

namespace workloads {

std::string read_trace_text(const std::filesystem::path& path);

// Decompresses gzip data; `source` names it in errors.
std::string gunzip(std::string_view data, const std::string& source);

}  // namespace workloads
