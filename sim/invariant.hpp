#pragma once
// Model invariants: conditions that hold after every event if the model is right (an SM never
// holds more threads than it has, a link never carries more than its capacity, a KV cache never
// hands out more blocks than it has). Checked in every build without NDEBUG (the debug and the
// sanitizer builds, docs/reliability.md); compiled out of release builds, where they would cost
// time on every event. A broken one prints where and what, then aborts, so a fuzzer or a test
// stops at the first wrong state rather than at a wrong number much later.

#ifdef NDEBUG
#define WARPSIM_INVARIANT(cond, what) static_cast<void>(0)
#else
#define WARPSIM_INVARIANT(cond, what) \
  ((cond) ? static_cast<void>(0) : ::sim::invariant_broken(#cond, what, __FILE__, __LINE__))
#endif

namespace sim {

[[noreturn]] void invariant_broken(const char* condition, const char* what, const char* file,
                                   int line);

}  // namespace sim
