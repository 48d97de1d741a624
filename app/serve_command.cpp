#include "app/serve_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/paths.hpp"
#include "app/run_command.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

struct ServeOptions {
  std::string model, system, policy, router, dtype, trace, prompt, output, preemption;
  std::optional<int> tp, pp, replicas;
  std::optional<std::int64_t> count, limit;
  std::optional<double> rate;
  std::vector<std::string> overrides;
  fs::path out, timeline;
  std::optional<std::uint64_t> seed;
  bool quiet = false;
};

// The base point: configs/experiments/serving.yaml wherever the config library is.
fs::path base_scenario() {
  for (const fs::path& dir : config_search_dirs())
    if (sim::is_file(dir / "experiments" / "serving.yaml"))
      return dir / "experiments" / "serving.yaml";
  throw sim::InputError(
      "configs/experiments/serving.yaml not found in the config search path (set "
      "WARPSIM_CONFIG_PATH to the folder holding experiments/)");
}

// A length flag: "200" or "uniform:32:512", as the requests map writes it.
std::string length_yaml(const std::string& flag, const std::string& v) {
  if (v.starts_with("uniform:")) {
    const auto a = v.find(':', 8);
    if (a == std::string::npos)
      throw sim::InputError(fmt::format("{} takes N or uniform:LO:HI, got '{}'", flag, v));
    return fmt::format("{{uniform: [{}, {}]}}", v.substr(8, a - 8), v.substr(a + 1));
  }
  return v;
}

std::vector<std::string> overrides_of(const ServeOptions& o) {
  std::vector<std::string> s;
  auto put = [&s](const char* key, const std::string& v) {
    if (!v.empty()) s.push_back(fmt::format("{}={}", key, v));
  };
  put("model", o.model);
  put("system", o.system);
  put("policy", o.policy);
  put("router", o.router);
  put("dtype", o.dtype);
  put("preemption", o.preemption);
  if (o.tp) put("tp", std::to_string(*o.tp));
  if (o.pp) put("pp", std::to_string(*o.pp));
  if (o.replicas) put("replicas", std::to_string(*o.replicas));
  const bool synthetic = o.rate || o.count || !o.prompt.empty() || !o.output.empty();
  if (!o.trace.empty() && synthetic)
    throw sim::InputError("--trace replays a trace; --rate, --count, --prompt and --output draw a "
                          "synthetic stream: give one or the other");
  if (!o.trace.empty()) {
    if (!sim::is_file(o.trace))
      throw sim::InputError(fmt::format("--trace: no such file '{}'", o.trace));
    std::string m = fmt::format("{{trace: '{}'", fs::absolute(o.trace).string());
    if (o.limit) m += fmt::format(", limit: {}", *o.limit);
    s.push_back("requests=" + m + "}");
  } else if (synthetic) {
    if (!o.rate) throw sim::InputError("a synthetic stream needs --rate (requests per second)");
    s.push_back(fmt::format("requests={{count: {}, rate: {}, prompt: {}, output: {}}}",
                            o.count.value_or(1000), *o.rate,
                            length_yaml("--prompt", o.prompt.empty() ? "uniform:32:512" : o.prompt),
                            length_yaml("--output", o.output.empty() ? "uniform:1:128" : o.output)));
  } else if (o.limit) {
    s.push_back(fmt::format("requests.limit={}", *o.limit));
  }
  s.insert(s.end(), o.overrides.begin(), o.overrides.end());
  return s;
}

}  // namespace

Command add_serve_command(CLI::App& cli) {
  auto o = std::make_shared<ServeOptions>();
  auto* sub = cli.add_subcommand(
      "serve", "serve LLM requests on a simulated system (the `serving` experiment from flags)");
  sub->add_option("--model", o->model, "decoder: llama2-70b, gpt3-175b, ... (warpsim list decoder)");
  sub->add_option("--system", o->system, "system preset (configs/systems/)");
  sub->add_option("--tp", o->tp, "tensor-parallel GPUs per stage")->check(CLI::Range(1, 1024));
  sub->add_option("--pp", o->pp, "pipeline stages")->check(CLI::Range(1, 1024));
  sub->add_option("--replicas", o->replicas, "model replicas")->check(CLI::Range(1, 1 << 20));
  sub->add_option("--policy", o->policy, "batching policy (warpsim list batching)");
  sub->add_option("--router", o->router, "routing policy (warpsim list routing)");
  sub->add_option("--dtype", o->dtype, "fp16 | bf16");
  sub->add_option("--preemption", o->preemption, "recompute | swap");
  sub->add_option("--trace", o->trace, "request trace CSV (arrived_at, num_prefill_tokens, "
                                       "num_decode_tokens)");
  sub->add_option("--limit", o->limit, "the first N requests of the trace")
      ->check(CLI::Range(std::int64_t{1}, INT64_MAX));
  sub->add_option("--rate", o->rate, "synthetic stream: Poisson arrivals per second")
      ->check(CLI::PositiveNumber);
  sub->add_option("--count", o->count, "synthetic stream: requests (default 1000)")
      ->check(CLI::Range(std::int64_t{1}, INT64_MAX));
  sub->add_option("--prompt", o->prompt, "synthetic prompt length: N or uniform:LO:HI");
  sub->add_option("--output", o->output, "synthetic output length: N or uniform:LO:HI");
  sub->add_option("--set", o->overrides, "override any key of the point: a.b=v (repeatable)");
  sub->add_option("--out", o->out, "results folder (default results/serving)");
  sub->add_option("--timeline", o->timeline, "write a Chrome/Perfetto trace JSON here");
  sub->add_option("--seed", o->seed, "random seed");
  sub->add_flag("--quiet", o->quiet, "print nothing on success");
  return {sub, [o](sim::PluginCatalog& catalog, std::ostream& out) {
            RunOptions r;
            r.scenario = base_scenario();
            r.overrides = overrides_of(*o);
            r.out = o->out;
            r.timeline = o->timeline;
            r.seed = o->seed;
            r.quiet = o->quiet;
            r.point = true;
            run_scenario(r, catalog, out);
            return kExitOk;
          }};
}

}  // namespace app
