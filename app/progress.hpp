#pragma once
// Progress of a batch of runs on the terminal: a bar redrawn in place when stderr is a TTY,
// otherwise a plain line at most every few seconds (logs, CI, Slurm output files).

#include <chrono>
#include <cstddef>
#include <cstdio>

namespace app {

class Progress {
 public:
  // `total` points, of which `skipped` were already complete before this invocation.
  Progress(std::size_t total, std::size_t skipped, std::FILE* to = stderr);
  void point_done(bool failed);
  void finish();  // the final line, always printed

 private:
  void draw(bool final);

  std::size_t total_, skipped_, done_ = 0, failed_ = 0;
  std::FILE* to_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace app
