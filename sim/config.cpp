#include "sim/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/files.hpp"
#include "sim/nearest.hpp"
#include "sim/units.hpp"

namespace sim {
namespace fs = std::filesystem;
using Kind = ConfigNode::Kind;
using NodePtr = std::shared_ptr<ConfigNode>;

// ---------------------------------------------------------------------------------------------
// ConfigNode

NodePtr ConfigNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return v;
  return nullptr;
}

NodePtr ConfigNode::clone() const {
  auto n = std::make_shared<ConfigNode>();
  n->kind = kind;
  n->scalar = scalar;
  n->pos = pos;
  n->key_pos = key_pos;
  for (const auto& [k, v] : entries) n->entries.emplace_back(k, v->clone());
  for (const auto& v : items) n->items.push_back(v->clone());
  return n;
}

// ---------------------------------------------------------------------------------------------
// YAML parsing

namespace {

SourcePos pos_of(const YAML::Mark& m, const std::string& source) {
  if (m.is_null()) return SourcePos{source, 0, 0};
  return SourcePos{source, m.line + 1, m.column + 1};
}

NodePtr convert_yaml(const YAML::Node& y, const std::string& source) {
  auto n = std::make_shared<ConfigNode>();
  n->pos = pos_of(y.Mark(), source);
  switch (y.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      n->kind = Kind::kNull;
      break;
    case YAML::NodeType::Scalar:
      n->kind = Kind::kScalar;
      n->scalar = y.Scalar();
      break;
    case YAML::NodeType::Sequence:
      n->kind = Kind::kSeq;
      for (const auto& item : y) n->items.push_back(convert_yaml(item, source));
      break;
    case YAML::NodeType::Map:
      n->kind = Kind::kMap;
      for (const auto& kv : y) {
        const SourcePos kp = pos_of(kv.first.Mark(), source);
        if (!kv.first.IsScalar()) throw InputError(kp, "map keys must be plain names");
        const std::string key = kv.first.Scalar();
        if (n->find(key)) throw InputError(kp, fmt::format("duplicate key '{}'", key));
        auto child = convert_yaml(kv.second, source);
        child->key_pos = kp;
        if (child->kind == Kind::kNull) child->pos = kp;
        n->entries.emplace_back(key, std::move(child));
      }
      break;
  }
  return n;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

void set_pos(const NodePtr& n, const SourcePos& p) {
  n->pos = p;
  n->key_pos = p;
  for (auto& [k, v] : n->entries) set_pos(v, p);
  for (auto& v : n->items) set_pos(v, p);
}

}  // namespace

NodePtr parse_yaml(const std::string& text, const std::string& source_name) {
  YAML::Node y;
  try {
    y = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(pos_of(e.mark, source_name), e.msg);
  }
  auto root = convert_yaml(y, source_name);
  if (root->kind == Kind::kNull) {  // an empty file is an empty map
    root->kind = Kind::kMap;
    root->pos = SourcePos{source_name, 1, 1};
  }
  return root;
}

NodePtr merge_config(const NodePtr& base, const NodePtr& top) {
  if (!base) return top;
  if (base->kind != Kind::kMap || top->kind != Kind::kMap) return top;
  auto out = base->clone();
  out->pos = top->pos;
  for (const auto& [k, v] : top->entries) {
    bool merged = false;
    for (auto& [bk, bv] : out->entries) {
      if (bk == k) {
        bv = merge_config(bv, v);
        bv->key_pos = v->key_pos;
        merged = true;
        break;
      }
    }
    if (!merged) out->entries.emplace_back(k, v);
  }
  return out;
}

NodePtr find_path(const NodePtr& root, std::string_view path) {
  NodePtr cur = root;
  for (const std::string& seg : split(std::string(path), '.')) {
    if (!cur) return nullptr;
    if (cur->kind == Kind::kSeq) {
      if (!all_digits(seg) || std::stoul(seg) >= cur->items.size()) return nullptr;
      cur = cur->items[std::stoul(seg)];
    } else {
      cur = cur->find(seg);
    }
  }
  return cur;
}

void apply_override(const NodePtr& root, const std::string& assignment) {
  const SourcePos where{"--set " + assignment};
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(where, "expected KEY=VALUE, e.g. --set gpu.sm_count=80");
  const std::vector<std::string> path = split(assignment.substr(0, eq), '.');
  for (const auto& seg : path)
    if (seg.empty()) throw InputError(where, "empty key segment in the path");
  NodePtr value = parse_yaml(assignment.substr(eq + 1), where.file);
  if (value->kind == Kind::kMap && value->entries.empty() && eq + 1 == assignment.size()) {
    value->kind = Kind::kScalar;  // "--set key=" sets an empty string
  }
  set_pos(value, where);

  NodePtr cur = root;
  std::string walked;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = path[i];
    const bool last = i + 1 == path.size();
    if (cur->kind == Kind::kSeq) {
      if (!all_digits(seg))
        throw InputError(where, fmt::format("'{}' is a list; index it with a number", walked));
      const std::size_t idx = std::stoul(seg);
      if (idx >= cur->items.size())
        throw InputError(where, fmt::format("index {} is past the end of '{}' ({} items)", idx,
                                            walked, cur->items.size()));
      if (last)
        cur->items[idx] = value;
      else
        cur = cur->items[idx];
    } else {
      if (cur->kind == Kind::kNull) cur->kind = Kind::kMap;
      if (cur->kind != Kind::kMap)
        throw InputError(where, fmt::format("'{}' is a value, not a map", walked));
      NodePtr next = cur->find(seg);
      if (last) {
        if (next) {
          for (auto& [k, v] : cur->entries)
            if (k == seg) v = value;
        } else {
          cur->entries.emplace_back(seg, value);
        }
      } else {
        if (!next) {
          next = std::make_shared<ConfigNode>();
          next->kind = Kind::kMap;
          next->pos = where;
          next->key_pos = where;
          cur->entries.emplace_back(seg, next);
        }
        cur = next;
      }
    }
    walked += (walked.empty() ? "" : ".") + seg;
  }
}

namespace {

void check_node(const ConfigNode& n, const std::string& path) {
  if (n.kind == Kind::kMap) {
    std::vector<std::string> candidates = n.asked;
    for (const auto& [k, v] : n.entries) {
      if (!v->used) {
        const std::string where = path.empty() ? "at the top level" : "in '" + path + "'";
        throw InputError(v->key_pos, fmt::format("unknown key '{}' {}{}", k, where,
                                                 did_you_mean(k, candidates)));
      }
      check_node(*v, path.empty() ? k : path + "." + k);
    }
  } else if (n.kind == Kind::kSeq) {
    for (std::size_t i = 0; i < n.items.size(); ++i)
      if (n.items[i]->used) check_node(*n.items[i], fmt::format("{}.{}", path, i));
  }
}

}  // namespace

void check_unused(const NodePtr& root) { check_node(*root, ""); }

namespace {

void emit(YAML::Emitter& out, const ConfigNode& n) {
  switch (n.kind) {
    case Kind::kNull:
      out << YAML::Null;
      break;
    case Kind::kScalar:
      out << n.scalar;
      break;
    case Kind::kSeq:
      out << YAML::BeginSeq;
      for (const auto& v : n.items) emit(out, *v);
      out << YAML::EndSeq;
      break;
    case Kind::kMap:
      out << YAML::BeginMap;
      for (const auto& [k, v] : n.entries) {
        out << YAML::Key << k << YAML::Value;
        emit(out, *v);
        if (v->defaulted) out << YAML::Comment("default");
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::string dump_yaml(const NodePtr& root) {
  YAML::Emitter out;
  emit(out, *root);
  return std::string(out.c_str()) + "\n";
}

std::string dump_yaml_flow(const ConfigNode& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  emit(out, node);
  return out.c_str();
}

// ---------------------------------------------------------------------------------------------
// Config views

Config::Config(NodePtr node, std::string path) : node_(std::move(node)), path_(std::move(path)) {
  if (node_) node_->used = true;
}

Config Config::empty(const SourcePos& pos, std::string path) {
  auto n = std::make_shared<ConfigNode>();
  n->kind = Kind::kMap;
  n->pos = pos;
  n->key_pos = pos;
  return Config(n, std::move(path));
}

std::string Config::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Config::fail(const std::string& message) const {
  const SourcePos& p = node_ ? node_->pos : SourcePos{};
  throw InputError(p, path_.empty() ? message : fmt::format("'{}': {}", path_, message));
}

namespace {
void remember(const ConfigNode& n, std::string_view key) {
  if (std::find(n.asked.begin(), n.asked.end(), key) == n.asked.end())
    n.asked.emplace_back(key);
}
}  // namespace

bool Config::has(std::string_view key) const {
  if (!is_map()) return false;
  remember(*node_, key);
  auto c = node_->find(key);
  return c && c->kind != Kind::kNull;
}

std::optional<Config> Config::find(std::string_view key) const {
  if (!node_ || node_->kind == Kind::kNull) return std::nullopt;
  if (!is_map()) fail("expected a map of settings");
  remember(*node_, key);
  auto c = node_->find(key);
  if (!c) return std::nullopt;
  c->used = true;
  if (c->kind == Kind::kNull) return std::nullopt;
  return Config(c, child_path(key));
}

Config Config::at(std::string_view key) const {
  if (auto c = find(key)) return *c;
  std::vector<std::string> present;
  if (is_map())
    for (const auto& [k, v] : node_->entries) present.push_back(k);
  const std::string typo = nearest_name(key, present);  // a misspelt key that was given
  if (!typo.empty())  // point at the misspelling, not at the map that lacks the key
    throw InputError(node_->find(typo)->key_pos,
                     fmt::format("{}missing required key '{}' (found '{}' instead?)",
                                 path_.empty() ? "" : "'" + path_ + "': ", key, typo));
  fail(fmt::format("missing required key '{}'", key));
}

void Config::make_map_of(std::string_view key) const {
  if (!is_scalar()) return;
  auto value = std::make_shared<ConfigNode>(*node_);
  value->used = true;
  node_->kind = Kind::kMap;
  node_->scalar.clear();
  node_->entries.clear();
  node_->entries.emplace_back(std::string(key), value);
}

std::vector<Config> Config::items() const {
  if (!is_seq()) fail("expected a list");
  std::vector<Config> out;
  for (std::size_t i = 0; i < node_->items.size(); ++i)
    out.emplace_back(node_->items[i], fmt::format("{}.{}", path_, i));
  return out;
}

std::vector<std::string> Config::keys() const {
  if (!is_map()) fail("expected a map");
  std::vector<std::string> out;
  for (const auto& [k, v] : node_->entries) {
    v->used = true;
    out.push_back(k);
  }
  return out;
}

std::vector<Config> Config::seq(std::string_view key) const { return at(key).items(); }

std::string Config::as_string() const {
  if (!is_scalar()) fail("expected a single value");
  return node_->scalar;
}

template <class F>
auto Config::convert(F&& f) const -> decltype(f(std::string_view{})) {
  const std::string s = as_string();
  try {
    return f(s);
  } catch (const InputError& e) {
    fail(e.what());
  }
}

std::int64_t Config::as_int() const {
  return convert([&](std::string_view s) -> std::int64_t {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
    double d = 0;
    auto [dend, dec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (dec == std::errc() && dend == s.data() + s.size() && std::isfinite(d) &&
        d == std::floor(d) && std::fabs(d) < 9.2e18)
      return static_cast<std::int64_t>(d);
    throw InputError(fmt::format("expected an integer, got '{}'", s));
  });
}

double Config::as_double() const {
  return convert([&](std::string_view s) -> double {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(v)) return v;
    throw InputError(fmt::format("expected a number, got '{}'", s));
  });
}

bool Config::as_bool() const {
  return convert([&](std::string_view s) -> bool {
    if (s == "true" || s == "yes" || s == "on" || s == "True") return true;
    if (s == "false" || s == "no" || s == "off" || s == "False") return false;
    throw InputError(fmt::format("expected true or false, got '{}'", s));
  });
}

namespace {
void mark(const ConfigNode& n) {
  n.used = true;
  for (const auto& [k, v] : n.entries) mark(*v);
  for (const auto& v : n.items) mark(*v);
}
}  // namespace

Config Config::or_default(std::string_view key, std::string_view dflt) const {
  return or_default_node(key, false, dflt);
}

Config Config::or_default_yaml(std::string_view key, std::string_view yaml) const {
  return or_default_node(key, true, yaml);
}

Config Config::or_default_node(std::string_view key, bool yaml, std::string_view dflt) const {
  if (auto c = find(key)) return *c;
  std::shared_ptr<ConfigNode> n;
  if (yaml) {
    n = parse_yaml(std::string(dflt), "(default of '" + child_path(key) + "')");
    mark(*n);
  } else {
    n = std::make_shared<ConfigNode>();
    n->kind = Kind::kScalar;
    n->scalar = std::string(dflt);
  }
  n->used = true;
  n->defaulted = true;
  if (is_map()) {
    n->pos = n->key_pos = node_->pos;
    bool replaced = false;
    for (auto& [k, v] : node_->entries)
      if (k == key) {  // written as null: the default takes its place
        v = n;
        replaced = true;
      }
    if (!replaced) node_->entries.emplace_back(std::string(key), n);
  }
  return Config(n, child_path(key));
}

std::uint64_t Config::as_size() const { return convert(units::parse_size); }
double Config::as_bandwidth() const { return convert(units::parse_bandwidth); }
Time Config::as_duration() const { return convert(units::parse_duration); }
Frequency Config::as_frequency() const { return convert(units::parse_frequency); }
double Config::as_flops() const { return convert(units::parse_flops); }

void Config::mark_used() const {
  if (node_) mark(*node_);
}

std::string Config::get_string(std::string_view key, std::string_view dflt) const {
  return or_default(key, dflt).as_string();
}
std::int64_t Config::get_int(std::string_view key, std::int64_t dflt) const {
  return or_default(key, fmt::format("{}", dflt)).as_int();
}
double Config::get_double(std::string_view key, double dflt) const {
  return or_default(key, fmt::format("{}", dflt)).as_double();  // shortest round trip
}
bool Config::get_bool(std::string_view key, bool dflt) const {
  return or_default(key, dflt ? "true" : "false").as_bool();
}

std::int64_t Config::get_int_in(std::string_view key, std::int64_t lo, std::int64_t hi) const {
  const Config c = at(key);
  const std::int64_t v = c.as_int();
  if (v < lo || v > hi) c.fail(fmt::format("must be in [{}, {}], got {}", lo, hi, v));
  return v;
}
std::int64_t Config::get_int_in(std::string_view key, std::int64_t lo, std::int64_t hi,
                                std::int64_t dflt) const {
  or_default(key, fmt::format("{}", dflt));
  return get_int_in(key, lo, hi);
}

std::vector<std::string> Config::get_strings(std::string_view key) const {
  const Config c = at(key);
  if (c.is_scalar()) return {c.as_string()};
  std::vector<std::string> out;
  for (const Config& i : c.items()) out.push_back(i.as_string());
  return out;
}

std::uint64_t Config::get_size(std::string_view key) const {
  return at(key).convert(units::parse_size);
}
std::uint64_t Config::get_size(std::string_view key, std::string_view dflt) const {
  return or_default(key, dflt).convert(units::parse_size);
}
double Config::get_bandwidth(std::string_view key) const {
  return at(key).convert(units::parse_bandwidth);
}
double Config::get_bandwidth(std::string_view key, std::string_view dflt) const {
  return or_default(key, dflt).convert(units::parse_bandwidth);
}
Frequency Config::get_frequency(std::string_view key) const {
  return at(key).convert(units::parse_frequency);
}
Time Config::get_duration(std::string_view key) const {
  return at(key).convert(units::parse_duration);
}
Time Config::get_duration(std::string_view key, std::string_view dflt) const {
  return or_default(key, dflt).convert(units::parse_duration);
}
double Config::get_flops(std::string_view key) const {
  return at(key).convert(units::parse_flops);
}

// ---------------------------------------------------------------------------------------------
// ConfigLoader

ConfigLoader::ConfigLoader(std::vector<fs::path> search_dirs) : dirs_(std::move(search_dirs)) {}

void ConfigLoader::add_reference(std::string key, std::string folder) {
  references_[std::move(key)] = std::move(folder);
}

std::optional<fs::path> ConfigLoader::find(const std::string& folder,
                                           const std::string& name) const {
  for (const auto& d : dirs_) {
    for (const char* ext : {".yaml", ".yml", ""}) {
      fs::path p = d / folder / (name + ext);
      if (is_file(p)) return p;
    }
  }
  return std::nullopt;
}

// A reference written as a file (`gpu: my/gpu.yaml`): relative to the file that names it, or,
// from a --set or a sweep axis, to the working folder. A preset name is not a file reference.
std::optional<fs::path> ConfigLoader::file_reference(const std::string& value, const SourcePos& pos) {
  const fs::path p(value);
  if (p.extension() != ".yaml" && p.extension() != ".yml") return std::nullopt;
  if (p.is_relative() && !pos.file.empty() && pos.file.front() != '-') {
    const fs::path beside = fs::path(pos.file).parent_path() / p;
    if (is_file(beside)) return beside;
  }
  if (is_file(p)) return p;
  return std::nullopt;
}

std::vector<std::string> ConfigLoader::names(const std::string& folder) const {
  std::set<std::string> out;
  for (const auto& d : dirs_) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d / folder, ec))
      if (e.path().extension() == ".yaml") out.insert(e.path().stem().string());
  }
  return {out.begin(), out.end()};
}

NodePtr ConfigLoader::resolve_extends(NodePtr root, const fs::path& base_dir,
                                      std::vector<fs::path>& stack) const {
  if (root->kind != Kind::kMap) return root;
  NodePtr ext = root->find("extends");
  if (!ext) return root;
  std::vector<NodePtr> bases;
  if (ext->kind == Kind::kScalar) bases.push_back(ext);
  else if (ext->kind == Kind::kSeq) bases = ext->items;
  else throw InputError(ext->pos, "'extends' takes a file name or a list of them");
  std::erase_if(root->entries, [](const auto& kv) { return kv.first == "extends"; });

  NodePtr merged;
  for (const NodePtr& b : bases) {
    if (b->kind != Kind::kScalar) throw InputError(b->pos, "'extends' entries must be file names");
    std::vector<fs::path> candidates{base_dir / b->scalar, base_dir / (b->scalar + ".yaml")};
    for (const auto& d : dirs_) {
      candidates.push_back(d / b->scalar);
      candidates.push_back(d / (b->scalar + ".yaml"));
    }
    fs::path found;
    for (const auto& c : candidates)
      if (is_file(c)) {
        found = c;
        break;
      }
    if (found.empty())
      throw InputError(b->pos, fmt::format("extends: cannot find '{}' (looked beside this file "
                                           "and in the config directories)",
                                           b->scalar));
    try {
      merged = merge_config(merged, load_file(found, stack));
    } catch (const InputError& e) {
      // Name the including line too, so a broken base is traced to its use.
      const std::string msg = e.what();
      if (msg.find("extends cycle") != std::string::npos) throw;
      throw InputError(msg + fmt::format(" (extended from {})", b->pos.str()));
    }
  }
  return merge_config(merged, root);
}

NodePtr ConfigLoader::load_file(const fs::path& file, std::vector<fs::path>& stack) const {
  const fs::path canon = resolved(file);
  if (std::find(stack.begin(), stack.end(), canon) != stack.end())
    throw InputError(SourcePos{file.string()},
                     fmt::format("extends cycle: '{}' includes itself", file.string()));
  if (!path_exists(file)) throw InputError(SourcePos{file.string()}, "no such file");
  stack.push_back(canon);
  NodePtr root = parse_yaml(read_file(file), file.string());
  if (root->kind != Kind::kMap) throw InputError(root->pos, "expected a map of settings");
  root = resolve_extends(root, file.parent_path(), stack);
  stack.pop_back();
  return root;
}

void ConfigLoader::expand_references(const NodePtr& node, std::vector<fs::path>& chain) const {
  if (node->kind == Kind::kSeq) {
    for (const auto& i : node->items) expand_references(i, chain);
    return;
  }
  if (node->kind != Kind::kMap) return;
  for (auto& [k, v] : node->entries) {
    auto ref = references_.find(k);
    if (ref != references_.end() && v->kind == Kind::kScalar) {
      auto path = file_reference(v->scalar, v->pos);
      if (!path) path = find(ref->second, v->scalar);
      if (!path)
        throw InputError(v->pos, fmt::format("unknown {} '{}'{}; known: {}", k, v->scalar,
                                             did_you_mean(v->scalar, names(ref->second)),
                                             fmt::join(names(ref->second), ", ")));
      std::vector<fs::path> stack;
      NodePtr loaded = load_file(*path, stack);
      // The referenced file's own references (a system's `gpu:`) expand now, so a reference
      // brought in by --set is as complete as one written in the file.
      const fs::path canon = resolved(*path);
      if (std::find(chain.begin(), chain.end(), canon) != chain.end())
        throw InputError(v->pos, fmt::format("reference cycle: {} '{}' refers back to itself",
                                             k, v->scalar));
      chain.push_back(canon);
      expand_references(loaded, chain);
      chain.pop_back();
      if (!loaded->find("name")) {  // keep the name the scenario used
        auto n = std::make_shared<ConfigNode>();
        n->kind = Kind::kScalar;
        n->scalar = v->scalar;
        n->pos = v->pos;
        n->key_pos = v->pos;
        loaded->entries.insert(loaded->entries.begin(), {"name", n});
      }
      loaded->key_pos = v->key_pos;
      v = loaded;
    } else {
      expand_references(v, chain);
    }
  }
}

void ConfigLoader::finish(const NodePtr& root, const std::vector<std::string>& overrides) const {
  std::vector<fs::path> chain;
  expand_references(root, chain);
  for (const auto& o : overrides) apply_override(root, o);
  expand_references(root, chain);
}

NodePtr ConfigLoader::load(const fs::path& file, const std::vector<std::string>& overrides) const {
  std::vector<fs::path> stack;
  NodePtr root = load_file(file, stack);
  finish(root, overrides);
  return root;
}

NodePtr ConfigLoader::load_text(const std::string& text, const std::string& source_name,
                                const std::vector<std::string>& overrides) const {
  std::vector<fs::path> stack;
  NodePtr root = parse_yaml(text, source_name);
  if (root->kind != Kind::kMap) throw InputError(root->pos, "expected a map of settings");
  root = resolve_extends(root, fs::current_path(), stack);
  finish(root, overrides);
  return root;
}

}  // namespace sim
