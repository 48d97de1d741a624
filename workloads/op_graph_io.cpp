#include "workloads/op_graph_io.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <variant>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/nearest.hpp"
#include "workloads/json_nodes.hpp"

namespace workloads {

namespace {

constexpr std::string_view kFormatName = "warpsim-op-graph";
constexpr std::int64_t kFormatVersion = 1;

bool has_window(OpKind k) {
  return k == OpKind::conv || k == OpKind::depthwise_conv || k == OpKind::pool_max ||
         k == OpKind::pool_avg;
}
bool has_groups(OpKind k) {
  return k == OpKind::conv || k == OpKind::depthwise_conv;
}
bool has_axis(OpKind k) {
  return k == OpKind::concat || k == OpKind::softmax || k == OpKind::gather;
}

// ---------------------------------------------------------------------------------------------
// Reading

// Calls `f`, turning a position-less InputError (a bad name, say) into one at `at`.
template <class F>
auto at_node(const sim::Config& at, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const sim::InputError& e) {
    at.fail(e.what());
  }
}

Hw read_hw(const sim::Config& parent, std::string_view key, int min, Hw dflt, bool required) {
  std::optional<sim::Config> c = required ? std::optional(parent.at(key)) : parent.find(key);
  if (!c) return dflt;
  std::vector<sim::Config> parts;
  if (c->is_seq()) {
    parts = c->items();
    if (parts.size() != 2) c->fail("expected one value or [height, width]");
  } else {
    parts = {*c, *c};
  }
  const std::int64_t h = parts[0].as_int(), w = parts[1].as_int();
  for (const auto& [v, p] : {std::pair{h, parts[0]}, std::pair{w, parts[1]}})
    if (v < min || v > 1 << 20) p.fail(fmt::format("must be in [{}, {}], got {}", min, 1 << 20, v));
  return Hw{static_cast<int>(h), static_cast<int>(w)};
}

class GraphReader {
 public:
  explicit GraphReader(std::shared_ptr<sim::ConfigNode> root, const std::string& source)
      : root_(std::move(root)), source_(source) {}

  OpGraph read();

 private:
  void read_tensor(const sim::Config& t, DType default_dtype);
  void read_op(const sim::Config& o);
  TensorId tensor_ref(const sim::Config& item) const;
  std::vector<TensorId> tensor_refs(const sim::Config& op, std::string_view key) const;

  std::shared_ptr<sim::ConfigNode> root_;
  std::string source_;
  OpGraph g_;
  std::vector<sim::SourcePos> tensor_pos_, op_pos_;
  std::vector<std::pair<OpId, sim::Config>> deps_;  // resolved once every op is known
  mutable std::vector<std::string> tensor_names_;   // for did-you-mean, built on first miss
};

OpGraph GraphReader::read() {
  const sim::Config c(root_, "");
  if (!c.is_map()) c.fail("expected a map with 'tensors' and 'ops'");
  if (auto f = c.find("format"); f && f->as_string() != kFormatName)
    f->fail(fmt::format("expected format '{}', got '{}'", kFormatName, f->as_string()));
  if (auto v = c.find("version"); v && v->as_int() != kFormatVersion)
    v->fail(fmt::format("unsupported version {} (this build reads version {})", v->as_int(),
                        kFormatVersion));
  g_.set_name(c.get_string("name", std::filesystem::path(source_).stem().string()));
  if (auto b = c.find("batch")) {
    if (b->as_int() < 1) b->fail("batch must be >= 1");
    g_.set_batch(b->as_int());
  }
  DType default_dtype = DType::fp32;
  if (auto d = c.find("dtype"))
    default_dtype = at_node(*d, [&] { return parse_dtype(d->as_string()); });

  for (const sim::Config& t : c.seq("tensors")) read_tensor(t, default_dtype);
  for (const sim::Config& o : c.seq("ops")) read_op(o);
  for (const auto& [id, list] : deps_) {
    for (const sim::Config& item : list.items()) {
      const std::string name = item.as_string();
      auto dep = g_.find_op(name);
      if (!dep) {
        std::vector<std::string> names;
        for (const Op& o : g_.ops()) names.push_back(o.name);
        item.fail(fmt::format("unknown op '{}'{}", name, sim::did_you_mean(name, names)));
      }
      g_.add_dep(id, *dep);
    }
  }
  sim::check_unused(root_);
  if (auto p = g_.check()) {
    if (p->op >= 0) throw sim::InputError(op_pos_.at(static_cast<std::size_t>(p->op)), p->message);
    if (p->tensor >= 0)
      throw sim::InputError(tensor_pos_.at(static_cast<std::size_t>(p->tensor)), p->message);
    throw sim::InputError(sim::SourcePos{source_}, p->message);
  }
  return std::move(g_);
}

void GraphReader::read_tensor(const sim::Config& t, DType default_dtype) {
  const sim::Config name_node = t.at("name");
  const std::string name = name_node.as_string();
  if (auto prev = g_.find_tensor(name))
    name_node.fail(fmt::format("duplicate tensor name '{}' (first defined at {})", name,
                               tensor_pos_.at(static_cast<std::size_t>(*prev)).str()));
  std::vector<std::int64_t> shape;
  const sim::Config shape_node = t.at("shape");
  for (const sim::Config& d : shape_node.items()) {
    const std::int64_t v = d.as_int();
    // 2^40 per dimension keeps element counts of sane ranks inside 64 bits.
    if (v < 1 || v > (std::int64_t{1} << 40))
      d.fail(fmt::format("a dimension must be in [1, 2^40], got {}", v));
    shape.push_back(v);
  }
  if (shape.size() > 8)
    shape_node.fail(fmt::format("rank {} is above the maximum 8", shape.size()));
  DType dtype = default_dtype;
  if (auto d = t.find("dtype")) dtype = at_node(*d, [&] { return parse_dtype(d->as_string()); });
  const bool parameter = t.get_bool("parameter", false);
  tensor_pos_.push_back(t.pos());
  g_.add_tensor(name, std::move(shape), dtype, parameter);
}

TensorId GraphReader::tensor_ref(const sim::Config& item) const {
  const std::string name = item.as_string();
  if (auto id = g_.find_tensor(name)) return *id;
  if (tensor_names_.empty())
    for (const Tensor& t : g_.tensors()) tensor_names_.push_back(t.name);
  item.fail(fmt::format("unknown tensor '{}'{}", name, sim::did_you_mean(name, tensor_names_)));
}

std::vector<TensorId> GraphReader::tensor_refs(const sim::Config& op, std::string_view key) const {
  std::vector<TensorId> out;
  for (const sim::Config& item : op.seq(key)) out.push_back(tensor_ref(item));
  return out;
}

void GraphReader::read_op(const sim::Config& o) {
  Op op;
  const sim::Config name_node = o.at("name");
  op.name = name_node.as_string();
  if (auto prev = g_.find_op(op.name))
    name_node.fail(fmt::format("duplicate op name '{}' (first defined at {})", op.name,
                               op_pos_.at(static_cast<std::size_t>(*prev)).str()));
  const sim::Config kind = o.at("kind");
  op.kind = at_node(kind, [&] { return parse_op_kind(kind.as_string()); });
  if (auto p = o.find("phase")) op.phase = at_node(*p, [&] { return parse_phase(p->as_string()); });
  if (auto p = o.find("pass")) op.pass = at_node(*p, [&] { return parse_pass(p->as_string()); });
  op.inputs = tensor_refs(o, "inputs");
  op.outputs = tensor_refs(o, "outputs");

  // Attributes: only those of this kind are read, so any other is an "unknown key".
  if (has_window(op.kind)) {
    op.kernel = read_hw(o, "kernel", 1, {1, 1}, true);
    op.stride = read_hw(o, "stride", 1, {1, 1}, false);
    op.padding = read_hw(o, "padding", 0, {0, 0}, false);
    op.dilation = read_hw(o, "dilation", 1, {1, 1}, false);
  }
  if (has_groups(op.kind)) op.groups = static_cast<int>(o.get_int_in("groups", 1, 1 << 24, 1));
  const auto& functions = op_functions(op.kind);
  if (!functions.empty()) {
    const sim::Config f = o.at("function");
    op.function = f.as_string();
    if (std::find(functions.begin(), functions.end(), op.function) == functions.end())
      f.fail(fmt::format("unknown function '{}' for {}{}; known: {}", op.function,
                         op_kind_name(op.kind), sim::did_you_mean(op.function, functions),
                         fmt::join(functions, ", ")));
  }
  if (has_axis(op.kind)) op.axis = static_cast<int>(o.get_int_in("axis", 0, 7, 1));
  if (op.kind == OpKind::reduction) {
    if (auto axes = o.find("axes"))
      for (const sim::Config& a : axes->items()) op.axes.push_back(static_cast<int>(a.as_int()));
    op.keep_dims = o.get_bool("keep_dims", true);
  }
  if (op.kind == OpKind::gemm) {
    op.transpose_a = o.get_bool("transpose_a", false);
    op.transpose_b = o.get_bool("transpose_b", false);
  }

  op_pos_.push_back(o.pos());
  const OpId id = at_node(o, [&] { return g_.add_op(std::move(op)); });
  if (auto deps = o.find("deps")) {
    if (!deps->is_seq()) deps->fail("expected a list of op names");
    deps_.emplace_back(id, *deps);
  }
}

std::string read_text(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw sim::InputError(sim::SourcePos{file.string()}, "no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw sim::InputError(sim::SourcePos{file.string()}, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// Writing: both forms are produced from one list of fields per tensor and per op.

using Value = std::variant<std::string, std::int64_t, bool, std::vector<std::int64_t>,
                           std::vector<std::string>>;
using Fields = std::vector<std::pair<std::string, Value>>;

Value hw_value(Hw v) {
  if (v.h == v.w) return std::int64_t{v.h};
  return std::vector<std::int64_t>{v.h, v.w};
}

Fields tensor_fields(const Tensor& t) {
  Fields f{{"name", t.name}, {"shape", t.shape}, {"dtype", std::string(dtype_name(t.dtype))}};
  if (t.parameter) f.emplace_back("parameter", true);
  return f;
}

Fields op_fields(const OpGraph& g, const Op& op) {
  auto names = [&](const std::vector<TensorId>& ids) {
    std::vector<std::string> out;
    for (TensorId t : ids) out.push_back(g.tensor(t).name);
    return out;
  };
  Fields f{{"name", op.name}, {"kind", std::string(op_kind_name(op.kind))}};
  if (op.phase != Phase::forward) f.emplace_back("phase", std::string(phase_name(op.phase)));
  if (op.pass != Pass::fprop) f.emplace_back("pass", std::string(pass_name(op.pass)));
  if (!op_functions(op.kind).empty()) f.emplace_back("function", op.function);
  f.emplace_back("inputs", names(op.inputs));
  f.emplace_back("outputs", names(op.outputs));
  if (has_window(op.kind)) {
    f.emplace_back("kernel", hw_value(op.kernel));
    if (op.stride != Hw{1, 1}) f.emplace_back("stride", hw_value(op.stride));
    if (op.padding != Hw{0, 0}) f.emplace_back("padding", hw_value(op.padding));
    if (op.dilation != Hw{1, 1}) f.emplace_back("dilation", hw_value(op.dilation));
  }
  if (has_groups(op.kind) && op.groups != 1) f.emplace_back("groups", std::int64_t{op.groups});
  if (has_axis(op.kind)) f.emplace_back("axis", std::int64_t{op.axis});
  if (op.kind == OpKind::reduction) {
    f.emplace_back("axes", std::vector<std::int64_t>(op.axes.begin(), op.axes.end()));
    f.emplace_back("keep_dims", op.keep_dims);
  }
  if (op.transpose_a) f.emplace_back("transpose_a", true);
  if (op.transpose_b) f.emplace_back("transpose_b", true);
  if (!op.deps.empty()) {
    std::vector<std::string> deps;
    for (OpId d : op.deps) deps.push_back(g.op(d).name);
    f.emplace_back("deps", deps);
  }
  return f;
}

// Strings a YAML reader would not take back as the same string.
void emit_string(YAML::Emitter& out, const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    out << YAML::DoubleQuoted << s;
  else
    out << s;
}

void emit_yaml(YAML::Emitter& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          emit_string(out, x);
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>) {
          out << x;
        } else {
          out << YAML::Flow << YAML::BeginSeq;
          for (const auto& e : x) {
            if constexpr (std::is_same_v<T, std::vector<std::string>>)
              emit_string(out, e);
            else
              out << e;
          }
          out << YAML::EndSeq;
        }
      },
      v);
}

void emit_yaml(YAML::Emitter& out, const Fields& fields) {
  out << YAML::Flow << YAML::BeginMap;
  for (const auto& [k, v] : fields) {
    out << YAML::Key << k << YAML::Value;
    emit_yaml(out, v);
  }
  out << YAML::EndMap;
}

std::string to_yaml(const OpGraph& g) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << std::string(kFormatName);
  out << YAML::Key << "version" << YAML::Value << kFormatVersion;
  out << YAML::Key << "name" << YAML::Value;
  emit_string(out, g.name());
  if (g.batch() > 0) out << YAML::Key << "batch" << YAML::Value << g.batch();
  out << YAML::Key << "tensors" << YAML::Value << YAML::BeginSeq;
  for (const Tensor& t : g.tensors()) emit_yaml(out, tensor_fields(t));
  out << YAML::EndSeq;
  out << YAML::Key << "ops" << YAML::Value << YAML::BeginSeq;
  for (const Op& op : g.ops()) emit_yaml(out, op_fields(g, op));
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

boost::json::object json_object(const Fields& fields) {
  boost::json::object o;
  for (const auto& field : fields) {
    const auto& k = field.first;  // named, not a structured binding: lambdas capture it (clang 14)
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::int64_t> ||
                        std::is_same_v<T, bool>) {
            o[k] = x;
          } else {
            boost::json::array a;
            for (const auto& e : x) a.emplace_back(e);
            o[k] = std::move(a);
          }
        },
        field.second);
  }
  return o;
}

// One tensor or op per line: diff-friendly, and still valid for any JSON reader.
std::string to_json(const OpGraph& g) {
  std::string s = "{\n";
  s += fmt::format("  \"format\": {},\n", boost::json::serialize(boost::json::value(kFormatName)));
  s += fmt::format("  \"version\": {},\n", kFormatVersion);
  s += fmt::format("  \"name\": {},\n", boost::json::serialize(boost::json::value(g.name())));
  if (g.batch() > 0) s += fmt::format("  \"batch\": {},\n", g.batch());
  auto list = [&](const char* key, const auto& items, auto&& fields) {
    s += fmt::format("  \"{}\": [", key);
    bool first = true;
    for (const auto& item : items) {
      s += first ? "\n    " : ",\n    ";
      first = false;
      s += boost::json::serialize(json_object(fields(item)));
    }
    s += first ? "]" : "\n  ]";
  };
  list("tensors", g.tensors(), [](const Tensor& t) { return tensor_fields(t); });
  s += ",\n";
  list("ops", g.ops(), [&](const Op& op) { return op_fields(g, op); });
  s += "\n}\n";
  return s;
}

}  // namespace

GraphFormat graph_format_for(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".json") return GraphFormat::json;
  if (ext == ".yaml" || ext == ".yml") return GraphFormat::yaml;
  throw sim::InputError(sim::SourcePos{file.string()},
                        "cannot tell the op graph format from the extension: use .yaml, .yml "
                        "or .json");
}

OpGraph parse_op_graph(const std::string& text, GraphFormat format,
                       const std::string& source_name) {
  auto root = format == GraphFormat::json ? parse_json_nodes(text, source_name)
                                          : sim::parse_yaml(text, source_name);
  return GraphReader(std::move(root), source_name).read();
}

OpGraph read_op_graph(const std::filesystem::path& file) {
  const GraphFormat format = graph_format_for(file);
  return parse_op_graph(read_text(file), format, file.string());
}

std::string format_op_graph(const OpGraph& g, GraphFormat format) {
  return format == GraphFormat::json ? to_json(g) : to_yaml(g);
}

void write_op_graph(const OpGraph& g, const std::filesystem::path& file) {
  sim::write_file_atomic(file, format_op_graph(g, graph_format_for(file)));
}

}  // namespace workloads
