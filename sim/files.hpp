#pragma once
// Files are written whole or not at all: content goes to a temporary sibling, then is renamed
// over the target, so a crash or a bad input never leaves half a result.

#include <filesystem>
#include <functional>
#include <string>

namespace sim {

void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// Whether `path` names a regular file, a folder, anything. They never throw: a path the OS cannot
// look up (a name too long, a loop of links, no permission) is simply none of them, so a bad path
// in a config is reported as a missing file, not as an internal error.
bool is_file(const std::filesystem::path& path);
bool is_folder(const std::filesystem::path& path);
bool path_exists(const std::filesystem::path& path);
// `path` with links and dot-dots resolved as far as they exist; `path` itself when it cannot be.
std::filesystem::path resolved(const std::filesystem::path& path);

// The whole file; a file that cannot be opened is an InputError naming it.
std::string read_file(const std::filesystem::path& path);

// A sibling temporary path unique to this process: "<path>.tmp-<pid>".
std::filesystem::path temp_sibling(const std::filesystem::path& path);

// Removes `dir`'s temporary siblings (`dir.tmp-<pid>`, `dir.old-<pid>`) left by a process that
// was killed before it could rename or remove them (its pid no longer exists).
void remove_dead_siblings(const std::filesystem::path& dir);

// A results folder written whole or not at all: `fill` writes into an empty temporary sibling
// folder, which then replaces `dir` (an earlier `dir` is removed only once the new one is in
// place). If `fill` throws, the temporary folder is removed and `dir` is left as it was.
void write_folder_atomic(const std::filesystem::path& dir,
                         const std::function<void(const std::filesystem::path& tmp)>& fill);

}  // namespace sim
