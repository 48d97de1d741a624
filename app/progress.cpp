#include "app/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <string>

namespace app {
using Clock = std::chrono::steady_clock;

namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(std::size_t total, std::size_t skipped, std::FILE* to, Words words,
                   bool after_a_second)
    : total_(total), skipped_(skipped), to_(to), words_(words), after_a_second_(after_a_second),
      tty_(::isatty(::fileno(to)) != 0), start_(Clock::now()), last_draw_(start_) {
  if (skipped_ > 0)
    fmt::print(to_, "{}: {} of {} {} already complete, skipped\n", words_.prefix, skipped_,
               total_, words_.items);
  if (tty_ && !after_a_second_) draw(false);
}

void Progress::point_done(bool failed) {
  ++done_;
  if (failed) ++failed_;
  tick();
}

void Progress::advance_to(std::size_t done) {
  done_ = done;
  tick();
}

void Progress::tick() {
  const auto now = Clock::now();
  if (after_a_second_ && !drawn_) {
    if (now - start_ >= std::chrono::seconds(1)) draw(false);
    return;
  }
  // A TTY redraws often enough to look alive; a log gets a line every 5 s.
  if (now - last_draw_ >= (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5)))
    draw(false);
}

void Progress::finish() {
  if (after_a_second_ && !drawn_ && Clock::now() - start_ < std::chrono::seconds(1)) return;
  draw(true);
}

void Progress::draw(bool final) {
  drawn_ = true;
  last_draw_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const std::size_t to_run = total_ - skipped_;
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const std::string eta =
      rate > 0 ? clock_text(static_cast<double>(to_run - done_) / rate) : std::string("?");
  const std::size_t complete = skipped_ + done_;
  const std::string failed = failed_ ? fmt::format(", {} failed", failed_) : "";
  if (tty_) {
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = total_ ? complete * kWidth / total_ : kWidth;
    fmt::print(to_, "\r\033[K[{}{}] {}/{} {}{}  {:.2f}/s  {} {}", std::string(filled, '#'),
               std::string(kWidth - filled, '.'), complete, total_, words_.items, failed, rate,
               final ? "took" : "ETA", final ? clock_text(elapsed) : eta);
    if (final) fmt::print(to_, "\n");
  } else {
    fmt::print(to_, "{}: {}/{} {}{}, {:.2f} {}/s, {} {}\n", words_.prefix, complete, total_,
               words_.items, failed, rate, words_.items, final ? "took" : "ETA",
               final ? clock_text(elapsed) : eta);
  }
  std::fflush(to_);
}

}  // namespace app
