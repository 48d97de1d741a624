#include "workloads/ml_pipeline.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>

#include "sim/error.hpp"
#include "sim/nearest.hpp"

namespace workloads {
namespace {

constexpr std::array<std::string_view, 7> kNames{"tokenize",  "char_ngram", "word_ngram", "concat",
                                                 "normalize", "linear",     "trees"};

// Sizes of the generated zoo (estimates: PRETZEL's paper gives no per-dictionary sizes we could
// read). A dictionary entry is an n-gram's hash-table slot: the key string, its id and the
// table's overhead, about 40 bytes in a .NET dictionary. Weights are fp32.
constexpr std::int64_t kEntryBytes = 40;
constexpr std::int64_t kWeightBytes = 4;

PipelineOp op(std::string name, PipelineOpKind kind, std::vector<int> inputs) {
  PipelineOp o;
  o.name = std::move(name);
  o.kind = kind;
  o.inputs = std::move(inputs);
  return o;
}

PipelineOpKind parse_kind(const sim::Config& v) {
  try {
    return static_cast<PipelineOpKind>(sim::index_of_name(v.as_string(), kNames, "pipeline operator"));
  } catch (const sim::InputError& e) {
    v.fail(e.what());
  }
}

}  // namespace

ZipfSampler::ZipfSampler(int n, double exponent) {
  if (n < 1) throw sim::InputError("a Zipf draw needs at least one item");
  double sum = 0;
  for (int i = 1; i <= n; ++i) {
    weight_.push_back(std::pow(i, -exponent));
    cumulative_.push_back(sum += weight_.back());
  }
}

int ZipfSampler::draw(sim::RngStream& rng) const {
  const double u = rng.uniform01() * cumulative_.back();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min(size() - 1, static_cast<int>(it - cumulative_.begin()));
}

std::vector<int> ZipfSampler::draw_distinct(sim::RngStream& rng, int k) const {
  if (k > size()) throw sim::InputError(fmt::format("cannot draw {} distinct of {} items", k, size()));
  std::vector<int> out;
  std::vector<bool> taken(weight_.size(), false);
  while (static_cast<int>(out.size()) < k) {
    double left = 0;  // summed afresh: subtracting would lose the smallest weights
    for (std::size_t i = 0; i < weight_.size(); ++i)
      if (!taken[i]) left += weight_[i];
    double u = rng.uniform01() * left;
    int pick = -1;
    for (std::size_t i = 0; i < weight_.size(); ++i) {
      if (taken[i]) continue;
      pick = static_cast<int>(i);  // the last one not taken, should rounding run past
      if ((u -= weight_[i]) < 0) break;
    }
    out.push_back(pick);
    taken[static_cast<std::size_t>(pick)] = true;
  }
  return out;
}

std::string_view pipeline_op_name(PipelineOpKind k) {
  return kNames.at(static_cast<std::size_t>(k));
}

std::vector<std::string> pipeline_op_names() {
  return {kNames.begin(), kNames.end()};
}

std::int64_t Pipeline::parameter_bytes() const {
  std::int64_t n = 0;
  for (const PipelineOp& o : ops) n += o.param_bytes;
  return n;
}

std::vector<int> pipeline_order(const Pipeline& p) {
  const int n = static_cast<int>(p.ops.size());
  std::vector<int> pending(static_cast<std::size_t>(n), 0);
  std::vector<std::vector<int>> readers(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    for (int in : p.ops[static_cast<std::size_t>(i)].inputs) {
      if (in < 0 || in >= n || in == i)
        throw sim::InputError(fmt::format("pipeline '{}': op '{}' reads input {} (it has {} ops)",
                                          p.name, p.ops[static_cast<std::size_t>(i)].name, in, n));
      ++pending[static_cast<std::size_t>(i)];
      readers[static_cast<std::size_t>(in)].push_back(i);
    }
  std::vector<int> order;
  std::vector<bool> done(static_cast<std::size_t>(n), false);
  while (static_cast<int>(order.size()) < n) {
    int next = -1;
    for (int i = 0; i < n && next < 0; ++i)
      if (!done[static_cast<std::size_t>(i)] && pending[static_cast<std::size_t>(i)] == 0) next = i;
    if (next < 0) {
      for (int i = 0; i < n; ++i)
        if (!done[static_cast<std::size_t>(i)])
          throw sim::InputError(fmt::format("pipeline '{}': op '{}' is on a cycle", p.name,
                                            p.ops[static_cast<std::size_t>(i)].name));
    }
    done[static_cast<std::size_t>(next)] = true;
    order.push_back(next);
    for (int r : readers[static_cast<std::size_t>(next)]) --pending[static_cast<std::size_t>(r)];
  }
  return order;
}

std::vector<Pipeline> make_pipeline_zoo(const PipelineZooSpec& spec, sim::RngStream& rng) {
  if (spec.sentiment < 0 || spec.regression < 0 || spec.sentiment + spec.regression < 1)
    throw sim::InputError("pipeline zoo: give at least one pipeline");
  if (spec.char_dictionaries < 1 || spec.word_dictionaries < 1)
    throw sim::InputError("pipeline zoo: needs at least one char and one word dictionary");
  std::vector<Pipeline> zoo;
  const ZipfSampler char_pick(spec.char_dictionaries), word_pick(spec.word_dictionaries);
  // Distinct featurizers: char n-grams of length 3-5 over 100k-300k entries, word 1- or
  // 1+2-grams over 150k / 600k entries.
  auto char_dict = [](int i, PipelineOp& o) {
    o.ngram = 3 + i % 3;
    o.entries = 100000 * (o.ngram - 2);
    o.params = fmt::format("char{}gram.{}", o.ngram, i);
  };
  auto word_dict = [](int i, PipelineOp& o) {
    o.ngram = 1 + i % 2;
    o.entries = o.ngram == 1 ? 150000 : 600000;
    o.params = fmt::format("word{}gram.{}", o.ngram, i);
  };
  for (int s = 0; s < spec.sentiment; ++s) {
    Pipeline p;
    p.name = fmt::format("sentiment{:03}", s);
    p.ops.push_back(op("tokenize", PipelineOpKind::tokenize, {}));
    PipelineOp c = op("char_ngram", PipelineOpKind::char_ngram, {0});
    char_dict(char_pick.draw(rng), c);
    c.param_bytes = c.entries * kEntryBytes;
    PipelineOp w = op("word_ngram", PipelineOpKind::word_ngram, {0});
    word_dict(word_pick.draw(rng), w);
    w.param_bytes = w.entries * kEntryBytes;
    PipelineOp lin = op("linear", PipelineOpKind::linear, {3});
    lin.entries = c.entries + w.entries;
    lin.params = p.name + ".weights";  // trained per model: never shared
    lin.param_bytes = lin.entries * kWeightBytes;
    p.ops.push_back(c);
    p.ops.push_back(w);
    p.ops.push_back(op("concat", PipelineOpKind::concat, {1, 2}));
    p.ops.push_back(lin);
    zoo.push_back(std::move(p));
  }
  for (int r = 0; r < spec.regression; ++r) {
    Pipeline p;
    p.name = fmt::format("regression{:03}", r);
    PipelineOp norm = op("normalize", PipelineOpKind::normalize, {});
    norm.entries = 16 << (r % 4);  // 16-128 dense features
    norm.params = fmt::format("normalizer.{}", norm.entries);
    norm.param_bytes = 2 * norm.entries * kWeightBytes;  // scale and offset
    p.ops.push_back(norm);
    PipelineOp model = op(r % 2 == 0 ? "linear" : "trees",
                          r % 2 == 0 ? PipelineOpKind::linear : PipelineOpKind::trees, {0});
    model.params = p.name + ".model";
    if (model.kind == PipelineOpKind::linear) {
      model.entries = norm.entries;
      model.param_bytes = model.entries * kWeightBytes;
    } else {
      model.trees = 100;
      model.on_gpu = spec.trees_on_gpu;
      model.depth = 6 + static_cast<int>(rng.uniform01() * 3);  // 6-8
      model.entries = norm.entries;
      // A node: feature, threshold, two children (16 bytes); a leaf value.
      model.param_bytes = static_cast<std::int64_t>(model.trees) * ((std::int64_t{1} << model.depth) * 20);
    }
    p.ops.push_back(model);
    zoo.push_back(std::move(p));
  }
  for (int i = 0; i < spec.latency_critical && i < static_cast<int>(zoo.size()); ++i)
    zoo[static_cast<std::size_t>(i)].latency_critical = true;
  return zoo;
}

std::vector<int> popularity_ranks(int pipelines, sim::RngStream& rng) {
  std::vector<int> rank(static_cast<std::size_t>(pipelines));
  for (std::size_t i = 0; i < rank.size(); ++i) rank[i] = static_cast<int>(i);
  for (std::size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[rng.uniform_int(0, i - 1)]);
  return rank;
}

std::vector<PipelineRequest> assign_pipelines(const std::vector<Request>& requests,
                                              const std::vector<int>& ranks, double popularity,
                                              int fanout, sim::RngStream& picks) {
  const ZipfSampler popular(static_cast<int>(ranks.size()), popularity);
  std::vector<PipelineRequest> out;
  out.reserve(requests.size());
  for (const Request& r : requests) {
    PipelineRequest pr;
    pr.arrival = r.arrival;
    pr.characters = r.prompt_tokens;
    if (fanout == 1) {
      pr.pipelines = {ranks[static_cast<std::size_t>(popular.draw(picks))]};
    } else {
      for (int k : popular.draw_distinct(picks, fanout))
        pr.pipelines.push_back(ranks[static_cast<std::size_t>(k)]);
    }
    out.push_back(std::move(pr));
  }
  return out;
}

std::vector<Pipeline> read_pipelines(const sim::Config& list) {
  std::vector<Pipeline> out;
  std::map<std::string, std::int64_t> object_bytes;  // an id names one object: one size
  std::set<std::string> names;
  for (const sim::Config& item : list.items()) {
    Pipeline p;
    p.name = item.at("name").as_string();
    if (!names.insert(p.name).second)
      item.at("name").fail(fmt::format("two pipelines are named '{}'", p.name));
    if (auto lc = item.find("latency_critical")) p.latency_critical = lc->as_bool();
    std::map<std::string, int> index;
    const auto ops = item.at("ops").items();
    if (ops.empty()) item.at("ops").fail(fmt::format("pipeline '{}' has no operators", p.name));
    for (const sim::Config& o : ops) {
      const std::string name = o.at("name").as_string();
      if (!index.emplace(name, static_cast<int>(index.size())).second)
        o.at("name").fail(fmt::format("pipeline '{}' has two ops named '{}'", p.name, name));
    }
    for (const sim::Config& o : ops) {
      PipelineOp po;
      po.name = o.at("name").as_string();
      po.kind = parse_kind(o.at("kind"));
      if (auto ins = o.find("inputs"))
        for (const sim::Config& in : ins->items()) {
          const auto it = index.find(in.as_string());
          if (it == index.end())
            in.fail(fmt::format("pipeline '{}' has no op '{}'", p.name, in.as_string()));
          po.inputs.push_back(it->second);
        }
      if (auto v = o.find("params")) po.params = v->as_string();
      if (auto v = o.find("bytes")) {
        po.param_bytes = static_cast<std::int64_t>(v->as_size());  // units; negative is an error
        if (po.params.empty()) v->fail("bytes need a `params` id naming the object");
        const auto [it, fresh] = object_bytes.emplace(po.params, po.param_bytes);
        if (!fresh && it->second != po.param_bytes)
          v->fail(fmt::format("parameter object '{}' was given {} bytes elsewhere", po.params,
                              it->second));
      }
      auto count = [&](const char* key, std::int64_t lo, std::int64_t hi, auto& field) {
        if (auto v = o.find(key)) {
          const std::int64_t x = v->as_int();
          if (x < lo || x > hi) v->fail(fmt::format("{} must be in [{}, {}], got {}", key, lo, hi, x));
          field = static_cast<std::remove_reference_t<decltype(field)>>(x);
        }
      };
      count("entries", 0, std::int64_t{1} << 40, po.entries);
      count("ngram", 1, 16, po.ngram);
      count("trees", 0, 100000, po.trees);
      count("depth", 0, 30, po.depth);
      if (auto v = o.find("device")) {
        const std::string dev = v->as_string();
        if (dev != "cpu" && dev != "gpu") v->fail(fmt::format("device is cpu or gpu, got '{}'", dev));
        po.on_gpu = dev == "gpu";
        if (po.on_gpu && po.kind != PipelineOpKind::trees)
          v->fail(fmt::format("only a trees operator runs on the GPU, not {}",
                              pipeline_op_name(po.kind)));
        if (po.on_gpu && (po.trees < 1 || po.depth < 1 || po.entries < 1 || po.entries > (1 << 20)))
          v->fail("a trees operator on the GPU needs trees and depth >= 1 and entries (its "
                  "features) in [1, 1048576]");
      }
      p.ops.push_back(std::move(po));
    }
    try {
      pipeline_order(p);
    } catch (const sim::InputError& e) {
      item.at("ops").fail(e.what());
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) list.fail("give at least one pipeline");
  // An op naming an object another op gave a size takes that size, whichever came first.
  for (Pipeline& p : out)
    for (PipelineOp& op : p.ops)
      if (!op.params.empty() && op.param_bytes == 0)
        if (auto it = object_bytes.find(op.params); it != object_bytes.end()) op.param_bytes = it->second;
  return out;
}

}  // namespace workloads
