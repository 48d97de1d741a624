// An out-of-tree experiment, loaded by `warpsim --plugin`: the way a researcher adds a
// scheduler study without touching warpsim's sources.
#include "app/experiment.hpp"
#include "sim/simulator.hpp"

namespace {

class Hello final : public app::Experiment {
 public:
  explicit Hello(const sim::Config& c) : hops_(c.get_int_in("hops", 1, 1000, 3)) {}
  void run(app::RunContext& ctx) override {
    sim::Simulator s;
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < hops_; ++i) s.schedule(sim::Time::us(i), [&n] { ++n; });
    s.run();
    ctx.stats.set("hello.hops", static_cast<double>(n));
    ctx.console << "hello from a plugin\n";
    ctx.end_time = s.now();
  }

 private:
  std::int64_t hops_;
};

}  // namespace

WARPSIM_PLUGIN_ENTRY {
  app::experiments(catalog).add("hello", "counts hops (a plugin example)",
                                {{"hops", "int", "3", "events to run"}},
                                [](const sim::Config& c) { return std::make_unique<Hello>(c); });
}
