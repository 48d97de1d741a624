#include "sim/flow_network.hpp"

#include <stdexcept>

namespace sim {

FlowNetwork::FlowId FlowNetwork::start(std::span<const ResourceId> path, double bytes,
                                       Callback on_done, double cap, double weight) {
  if (!(bytes >= 0)) throw std::invalid_argument("flow network: bytes must be >= 0");
  const FlowId f = solver_.add_flow(path, cap, weight);
  if (state_.size() <= f) state_.resize(f + 1);
  State& s = state_[f];
  s.remaining = bytes;
  s.since = sim_.now();
  s.rate = 0;
  s.done = EventHandle();
  s.on_done = std::move(on_done);
  request_solve();
  return f;
}

double FlowNetwork::abort(FlowId f) {
  if (!solver_.active(f)) return 0;
  State& s = state_[f];
  advance(s);
  sim_.cancel(s.done);
  solver_.remove_flow(f);
  s.on_done = nullptr;
  request_solve();
  return s.remaining;
}

void FlowNetwork::advance(State& s) {
  const Time now = sim_.now();
  s.remaining -= s.rate * (now - s.since).seconds();
  if (s.remaining < 0) s.remaining = 0;
  s.since = now;
}

void FlowNetwork::request_solve() {
  if (solve_pending_) return;
  solve_pending_ = true;
  sim_.schedule(sim_.now(), [this] { resolve(); }, Priority::kBandwidth);
}

void FlowNetwork::resolve() {
  solve_pending_ = false;
  for (FlowId f : solver_.solve()) {
    State& s = state_[f];
    advance(s);  // bytes moved at the old rate
    s.rate = solver_.rate(f);
    sim_.cancel(s.done);
    if (s.rate > 0)
      s.done = sim_.schedule_cancellable(sim_.now() + Time::ceil_seconds(s.remaining / s.rate),
                                         [this, f] { finish(f); });
  }
  if (hook_) hook_();
}

void FlowNetwork::finish(FlowId f) {
  State& s = state_[f];
  s.done = EventHandle();
  solver_.remove_flow(f);
  s.remaining = 0;
  Callback cb = std::move(s.on_done);
  s.on_done = nullptr;
  request_solve();
  if (cb) cb(f);
}

}  // namespace sim
