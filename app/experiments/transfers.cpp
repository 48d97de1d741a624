#include "app/experiments/transfers.hpp"

#include <fmt/format.h>

#include <map>

#include "app/experiment.hpp"
#include "drivers/system.hpp"
#include "sim/params.hpp"

namespace app {
namespace {

struct LinkSpec {
  std::string name;
  double bandwidth;
  sim::Time latency;
};

struct TransferSpec {
  std::string name;
  std::vector<std::size_t> path;  // indices into links
  double bytes;
  sim::Time start;
  double cap;
};

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = sim::schema(R"(
links                 | list      |      | the links
links.name            | string    |      | a link's name (paths name links)
links.bandwidth       | bandwidth |      | its capacity
links.latency         | duration  | 0 ns | propagation latency, before the bytes flow
transfers             | list      | []   | named transfers
transfers.name        | string    |      | its name (metrics transfers.<name>.*)
transfers.path        | list      |      | link names, in order
transfers.bytes       | size      |      | how much
transfers.start       | duration  | 0 ns | when it starts
transfers.max_rate    | bandwidth |      | a cap on its rate (absent: none)
arrivals              | map       |      | random transfers (absent: none)
arrivals.count        | int       |      | how many
arrivals.mean_gap     | duration  |      | mean of the exponential gaps (Poisson arrivals)
arrivals.median_bytes | size      |      | median of the lognormal sizes
arrivals.size_sigma   | double    | 1    | sigma of the lognormal sizes
arrivals.path         | list      |      | link names, in order
)");
  return s;
}

class TransfersExperiment final : public Experiment {
 public:
  explicit TransfersExperiment(const sim::Config& config) {
    const sim::Params cfg(config, schema());
    std::map<std::string, std::size_t> index;
    for (const sim::Config& item : cfg.value("links").items()) {
      const sim::Params l(item, schema(), "links.");
      LinkSpec s{l.string("name"), l.bandwidth("bandwidth"), l.duration("latency")};
      if (index.count(s.name)) l.value("name").fail("duplicate link name '" + s.name + "'");
      index[s.name] = links_.size();
      links_.push_back(s);
    }
    auto read_path = [&](const sim::Params& t) {
      std::vector<std::size_t> path;
      for (const sim::Config& p : t.value("path").items()) {
        const std::string n = p.as_string();
        auto it = index.find(n);
        if (it == index.end()) {
          std::vector<std::string> names;
          for (const auto& l : links_) names.push_back(l.name);
          p.fail(fmt::format("unknown link '{}'{}", n, sim::did_you_mean(n, names)));
        }
        path.push_back(it->second);
      }
      if (path.empty()) t.value("path").fail("a transfer needs at least one link");
      return path;
    };
    for (const sim::Config& item : cfg.value("transfers").items()) {
      const sim::Params t(item, schema(), "transfers.");
      const auto cap = t.find("max_rate");
      transfers_.push_back(TransferSpec{t.string("name"), read_path(t),
                                        static_cast<double>(t.size("bytes")), t.duration("start"),
                                        cap ? cap->as_bandwidth() : sim::FairShare::kUncapped});
    }
    if (auto a = cfg.find_section("arrivals")) {  // random: Poisson arrivals, lognormal sizes
      arrivals_.count = a->integer("count", 0, 1'000'000);
      arrivals_.mean_gap = a->duration("mean_gap");
      arrivals_.median_bytes = static_cast<double>(a->size("median_bytes"));
      arrivals_.sigma = a->real("size_sigma");
      arrivals_.path = read_path(*a);
    }
    if (transfers_.empty() && arrivals_.count == 0)
      config.fail("nothing to simulate: give 'transfers' or 'arrivals'");
  }

  void run(RunContext& ctx) override {
    drivers::System system;  // links only
    sim::Simulator& sim = system.sim();
    sim::FlowNetwork& net = system.network();
    std::vector<sim::FlowNetwork::ResourceId> res;
    for (const auto& l : links_) res.push_back(net.add_resource(l.name, l.bandwidth));

    std::vector<TransferSpec> all = transfers_;
    sim::RngStream rng = ctx.rng.stream("transfers.arrivals");
    double t = 0;
    for (std::int64_t i = 0; i < arrivals_.count; ++i) {
      t += rng.exponential(arrivals_.mean_gap.seconds());
      all.push_back(TransferSpec{
          fmt::format("arrival{}", i), arrivals_.path,
          std::max(1.0,
                   std::round(rng.lognormal(std::log(arrivals_.median_bytes), arrivals_.sigma))),
          sim::Time::ceil_seconds(t), sim::FairShare::kUncapped});
    }

    int pid = -1;
    std::vector<int> link_tid;
    if (ctx.timeline) {
      pid = ctx.timeline->process("links");
      for (const auto& l : links_) link_tid.push_back(ctx.timeline->thread(pid, l.name));
    }
    std::vector<sim::TimeWeighted*> util;
    for (const auto& l : links_)
      util.push_back(&ctx.stats.time_weighted(fmt::format("links.{}.utilization", l.name)));
    net.on_rates_changed([&] {
      for (std::size_t i = 0; i < res.size(); ++i) {
        const double u = net.load(res[i]) / net.capacity(res[i]);
        if (u != util[i]->current()) {
          util[i]->set(sim.now(), u);
          if (ctx.timeline)
            ctx.timeline->counter(pid, links_[i].name + " utilization", sim.now(), u);
        }
      }
    });

    sim::Time makespan;
    std::vector<sim::Time> finish(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      sim.schedule(all[i].start, [&, i] {
        const TransferSpec& s = all[i];
        sim::Time latency;
        std::vector<sim::FlowNetwork::ResourceId> path;
        for (std::size_t l : s.path) {
          latency += links_[l].latency;
          path.push_back(res[l]);
        }
        // Propagation latency first, then the bytes stream at the shared rate.
        sim.schedule_in(latency, [&, i, path] {
          net.start(
              path, all[i].bytes,
              [&, i](sim::FlowNetwork::FlowId) {
                finish[i] = sim.now();
                makespan = std::max(makespan, sim.now());
                if (ctx.timeline)
                  ctx.timeline->complete(pid, link_tid[all[i].path.front()], all[i].name,
                                         "transfer", all[i].start, sim.now() - all[i].start,
                                         {{"bytes", all[i].bytes}});
              },
              all[i].cap);
        });
      });
    }
    const drivers::RunSummary run = system.run();

    ctx.console << fmt::format("{:<14} {:>12} {:>12} {:>12}\n", "transfer", "bytes", "finish",
                               "GB/s");
    ctx.report +=
        "| transfer | bytes | start | finish | throughput (GB/s) |\n|---|---|---|---|---|\n";
    sim::Accumulator& tput = ctx.stats.accumulator("transfers.throughput_gbps");
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& s = all[i];
      const double gbps = s.bytes / (finish[i] - s.start).seconds() / 1e9;
      tput.add(gbps);
      if (i < transfers_.size()) {  // named transfers get their own metrics
        ctx.stats.add_row(sim::ResultRow{"transfers." + s.name, {{"transfer", s.name}}, {}}
                              .metric("finish_us", finish[i].us())
                              .metric("throughput_gbps", gbps));
        ctx.console << fmt::format("{:<14} {:>12.0f} {:>12} {:>12.2f}\n", s.name, s.bytes,
                                   finish[i].str(), gbps);
      }
      ctx.report += fmt::format("| {} | {:.0f} | {} | {} | {:.2f} |\n", s.name, s.bytes,
                                s.start.str(), finish[i].str(), gbps);
    }
    ctx.stats.set("transfers.count", static_cast<double>(all.size()));
    ctx.stats.set("transfers.makespan_us", makespan.us());
    ctx.console << fmt::format("{} transfers, makespan {}\n", all.size(), makespan.str());
    ctx.end_time = run.simulated;
    ctx.add_run(run, "transfers");
  }

 private:
  std::vector<LinkSpec> links_;
  std::vector<TransferSpec> transfers_;
  struct {
    std::int64_t count = 0;
    sim::Time mean_gap;
    double median_bytes = 0;
    double sigma = 1;
    std::vector<std::size_t> path;
  } arrivals_;
};

}  // namespace

void register_transfers_experiment(sim::PluginCatalog& catalog) {
  experiments(catalog).add(
      "transfers", "bulk transfers sharing links by max-min fair share (the engine demo)", schema(),
      [](const sim::Config& cfg) { return std::make_unique<TransfersExperiment>(cfg); });
}

}  // namespace app
