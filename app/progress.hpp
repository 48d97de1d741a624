#pragma once
// Progress of a batch of runs on the terminal: a bar redrawn in place when stderr is a TTY,
// otherwise a plain line at most every few seconds (logs, CI, Slurm output files).

#include <chrono>
#include <cstddef>
#include <cstdio>

namespace app {

// What a Progress counts, and how its plain lines begin: sweeps count points, a run its
// simulations.
struct ProgressWords {
  const char* prefix = "sweep";
  const char* items = "points";
};

class Progress {
 public:
  using Words = ProgressWords;
  // `total` items, of which `skipped` were already complete before this invocation. With
  // `after_a_second`, nothing is shown until a second has passed (a quick run stays silent).
  Progress(std::size_t total, std::size_t skipped, std::FILE* to = stderr, Words words = {},
           bool after_a_second = false);
  void set_total(std::size_t total) { total_ = total; }
  void point_done(bool failed);
  void advance_to(std::size_t done);  // `done` items in all (items finished within one run)
  void finish();  // the final line, always printed

 private:
  void draw(bool final);
  void tick();

  std::size_t total_, skipped_, done_ = 0, failed_ = 0;
  std::FILE* to_;
  Words words_;
  bool after_a_second_, drawn_ = false;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace app
