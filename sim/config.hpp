#pragma once
// Configuration: YAML files turned into a tree whose every node remembers the file, line and
// column it came from, so every error can point at the offending text.
//
// Loading (ConfigLoader::load):
//   1. parse the file; `extends: base.yaml` (or a list) deep-merges bases first, this file on top;
//   2. expand references: a scalar under a reference key (`gpu: h100`) becomes the tree of
//      <config dir>/gpus/h100.yaml, so the resolved config is self-contained;
//   3. apply `--set a.b.c=value` overrides (values parsed as YAML), then expand again.
// Reading (Config): typed getters with units. Every key a reader asks for is recorded; after the
// components are built, check_unused() rejects any key nobody asked for, suggesting the nearest
// asked-for key ("did you mean 'sm_count'?"). The schema is thus exactly what the code reads.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/error.hpp"
#include "sim/time.hpp"

namespace sim {

struct ConfigNode {
  enum class Kind { kNull, kScalar, kMap, kSeq };
  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<std::pair<std::string, std::shared_ptr<ConfigNode>>> entries;  // map, in order
  std::vector<std::shared_ptr<ConfigNode>> items;                            // sequence
  SourcePos pos;      // where the value starts
  SourcePos key_pos;  // where its key is, for map entries
  // Use tracking (see check_unused).
  mutable bool used = false;
  bool defaulted = false;  // written by a reader's default, not by the user (dumped with a comment)
  mutable std::vector<std::string> asked;

  std::shared_ptr<ConfigNode> find(std::string_view key) const;
  std::shared_ptr<ConfigNode> clone() const;
};

// A read-only view of one node, with the dotted path that leads to it ("gpu.sm").
class Config {
 public:
  Config() = default;
  Config(std::shared_ptr<ConfigNode> node, std::string path);
  // An empty map at `pos`: the parameters of a plugin named without any ("policies: [eager]").
  static Config empty(const SourcePos& pos, std::string path);

  const std::string& path() const { return path_; }
  const SourcePos& pos() const { return node_->pos; }
  bool is_map() const { return node_ && node_->kind == ConfigNode::Kind::kMap; }
  bool is_seq() const { return node_ && node_->kind == ConfigNode::Kind::kSeq; }
  bool is_scalar() const { return node_ && node_->kind == ConfigNode::Kind::kScalar; }

  bool has(std::string_view key) const;  // records the key as known
  // The value at `key`, or `dflt` written into the tree first (marked as a default): every
  // getter with a default goes through here, so the resolved config saved beside the results
  // holds every value the run used and re-runs the same when a code default changes.
  Config or_default(std::string_view key, std::string_view dflt) const;
  // As or_default, with a default written as YAML: a list or a map ("{}": a section whose keys
  // all have defaults).
  Config or_default_yaml(std::string_view key, std::string_view yaml) const;
  Config at(std::string_view key) const;  // required
  std::optional<Config> find(std::string_view key) const;
  std::vector<Config> items() const;                  // this node as a sequence
  // Turns this scalar into a map {`key`: <the scalar>} in place (a plugin written as its bare
  // name gets a map to hold its parameters' defaults).
  void make_map_of(std::string_view key) const;
  std::vector<std::string> keys() const;              // this node as a map, marks them used
  std::vector<Config> seq(std::string_view key) const;  // required sequence under key

  // Scalars of this node.
  std::string as_string() const;
  std::int64_t as_int() const;
  double as_double() const;
  bool as_bool() const;

  // Typed getters: required, and with a default when the key is absent.
  std::string get_string(std::string_view key) const { return at(key).as_string(); }
  std::string get_string(std::string_view key, std::string_view dflt) const;
  std::int64_t get_int(std::string_view key) const { return at(key).as_int(); }
  std::int64_t get_int(std::string_view key, std::int64_t dflt) const;
  double get_double(std::string_view key) const { return at(key).as_double(); }
  double get_double(std::string_view key, double dflt) const;
  bool get_bool(std::string_view key) const { return at(key).as_bool(); }
  bool get_bool(std::string_view key, bool dflt) const;
  // Integers with a range check: "'sm_count' must be in [1, 1024], got 0".
  std::int64_t get_int_in(std::string_view key, std::int64_t lo, std::int64_t hi) const;
  std::int64_t get_int_in(std::string_view key, std::int64_t lo, std::int64_t hi,
                          std::int64_t dflt) const;
  std::vector<std::string> get_strings(std::string_view key) const;  // scalar or list

  // Quantities with units (sim/units.hpp).
  std::uint64_t get_size(std::string_view key) const;
  std::uint64_t get_size(std::string_view key, std::string_view dflt) const;
  double get_bandwidth(std::string_view key) const;
  double get_bandwidth(std::string_view key, std::string_view dflt) const;
  Frequency get_frequency(std::string_view key) const;
  Time get_duration(std::string_view key) const;
  Time get_duration(std::string_view key, std::string_view dflt) const;
  double get_flops(std::string_view key) const;

  // This scalar with its unit.
  std::uint64_t as_size() const;
  double as_bandwidth() const;
  Time as_duration() const;
  Frequency as_frequency() const;
  double as_flops() const;
  // Marks this node and everything under it as read (a key kept for people, not the model).
  void mark_used() const;

  // An InputError located at this node: "file:line:col: <path>: message".
  [[noreturn]] void fail(const std::string& message) const;

  const std::shared_ptr<ConfigNode>& node() const { return node_; }

 private:
  std::string child_path(std::string_view key) const;
  Config or_default_node(std::string_view key, bool yaml, std::string_view dflt) const;
  template <class F>
  auto convert(F&& f) const -> decltype(f(std::string_view{}));

  std::shared_ptr<ConfigNode> node_;
  std::string path_;
};

// Reads scenario files and named parts (gpus/, systems/) from the config directory.
class ConfigLoader {
 public:
  explicit ConfigLoader(std::vector<std::filesystem::path> search_dirs);

  // Keys whose scalar values name a file in a sub-folder of a search dir: gpu -> gpus/.
  void add_reference(std::string key, std::string folder);

  // Loads `file` with extends merged, references expanded and overrides ("a.b=v") applied.
  std::shared_ptr<ConfigNode> load(const std::filesystem::path& file,
                                   const std::vector<std::string>& overrides = {}) const;
  // Parses YAML text (errors name `source_name`), with extends resolved relative to `base_dir`.
  std::shared_ptr<ConfigNode> load_text(const std::string& text, const std::string& source_name,
                                        const std::vector<std::string>& overrides = {}) const;
  // Path of a named part: find("gpus", "h100-sxm") -> <dir>/gpus/h100-sxm.yaml.
  std::optional<std::filesystem::path> find(const std::string& folder,
                                            const std::string& name) const;
  // Names available in a folder, sorted.
  std::vector<std::string> names(const std::string& folder) const;
  const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

 private:
  std::shared_ptr<ConfigNode> load_file(const std::filesystem::path& file,
                                        std::vector<std::filesystem::path>& stack) const;
  std::shared_ptr<ConfigNode> resolve_extends(std::shared_ptr<ConfigNode> root,
                                              const std::filesystem::path& base_dir,
                                              std::vector<std::filesystem::path>& stack) const;
  // `chain`: the referenced files being expanded, outermost first (a cycle is an error).
  void expand_references(const std::shared_ptr<ConfigNode>& node,
                         std::vector<std::filesystem::path>& chain) const;
  void finish(const std::shared_ptr<ConfigNode>& root,
              const std::vector<std::string>& overrides) const;

  std::vector<std::filesystem::path> dirs_;
  static std::optional<std::filesystem::path> file_reference(const std::string& value,
                                                             const SourcePos& pos);
  std::map<std::string, std::string> references_;
};

// Parses YAML text into a node tree (no extends/references); errors name `source_name`.
std::shared_ptr<ConfigNode> parse_yaml(const std::string& text, const std::string& source_name);
// The node at a dotted path ("links.0.bandwidth": list items by index), or null.
std::shared_ptr<ConfigNode> find_path(const std::shared_ptr<ConfigNode>& root, std::string_view path);
// Deep merge: maps merge key by key, anything else in `top` replaces `base`.
std::shared_ptr<ConfigNode> merge_config(const std::shared_ptr<ConfigNode>& base,
                                         const std::shared_ptr<ConfigNode>& top);
// Applies one "a.b.c=value" override.
void apply_override(const std::shared_ptr<ConfigNode>& root, const std::string& assignment);
// Throws InputError at the first key no reader asked for, with a suggestion.
void check_unused(const std::shared_ptr<ConfigNode>& root);
// YAML text of the tree, keys in their original order.
std::string dump_yaml(const std::shared_ptr<ConfigNode>& root);
// One-line YAML of a node ("[eager, nimble]", "{a: 1}"): a value as `--set k=<it>` takes it.
std::string dump_yaml_flow(const ConfigNode& node);

}  // namespace sim
