// Model invariants abort in builds with assertions and cost nothing in release builds.

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "sim/invariant.hpp"

namespace {

// Runs `f` in a child process; its wait status.
template <class F>
int in_child(F f) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen("/dev/null", "w", stderr);  // the abort message is expected
    f();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("a broken model invariant aborts in a build with assertions, and only there") {
  int evaluated = 0;
  const int status = in_child([&] { WARPSIM_INVARIANT(++evaluated < 0, "test invariant"); });
#ifdef NDEBUG
  CHECK(WIFEXITED(status));
  WARPSIM_INVARIANT(++evaluated < 0, "not evaluated in a release build");
  CHECK(evaluated == 0);
#else
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  WARPSIM_INVARIANT(++evaluated > 0, "holds");
  CHECK(evaluated == 1);
#endif
  CHECK(in_child([] { WARPSIM_INVARIANT(1 + 1 == 2, "holds"); }) == 0);
}
