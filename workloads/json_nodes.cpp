#include "workloads/json_nodes.hpp"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <cctype>
#include <vector>

#include "sim/error.hpp"

namespace workloads {

namespace {

using Kind = sim::ConfigNode::Kind;
using NodePtr = std::shared_ptr<sim::ConfigNode>;

// SAX handler that builds the node tree. Boost.JSON reports values but not where they are, so
// a cursor re-scans the text in step with the events (each event is the next token) to give
// every node its line and column.
class NodeBuilder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  NodeBuilder(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  NodePtr root() const { return root_; }
  sim::SourcePos pos_at(std::size_t offset) {
    // Offsets only grow (events come in text order), so line counting is incremental.
    if (offset < counted_) {
      counted_ = 0;
      line_ = col_ = 1;
    }
    for (; counted_ < offset && counted_ < text_.size(); ++counted_) {
      if (text_[counted_] == '\n') {
        ++line_;
        col_ = 1;
      } else {
        ++col_;
      }
    }
    return sim::SourcePos{source_, line_, col_};
  }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return open(Kind::kSeq); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return close(); }
  bool on_object_begin(boost::system::error_code&) { return open(Kind::kMap); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return close(); }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    const std::size_t at = string_token();
    part_.append(s.data(), s.size());
    scalar(at, std::move(part_));
    part_.clear();
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    key_pos_ = pos_at(string_token());
    part_.append(s.data(), s.size());
    key_ = std::move(part_);
    part_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::system::error_code&) {
    return number();
  }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::system::error_code&) {
    return number();
  }
  bool on_double(double, boost::json::string_view, boost::system::error_code&) { return number(); }
  bool on_bool(bool b, boost::system::error_code&) {
    const std::size_t at = next_token();
    cursor_ = at + (b ? 4 : 5);
    scalar(at, b ? "true" : "false");
    return true;
  }
  bool on_null(boost::system::error_code&) {
    const std::size_t at = next_token();
    cursor_ = at + 4;
    auto n = std::make_shared<sim::ConfigNode>();
    n->kind = Kind::kNull;
    n->pos = pos_at(at);
    attach(n);
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  // Start of the next token: past whitespace and the separators ',' and ':'.
  std::size_t next_token() const {
    std::size_t i = cursor_;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' ||
                                text_[i] == '\r' || text_[i] == ',' || text_[i] == ':'))
      ++i;
    return i;
  }
  // A quoted string token: returns its start and moves the cursor past its closing quote.
  std::size_t string_token() {
    const std::size_t at = next_token();
    std::size_t i = at + 1;
    while (i < text_.size() && text_[i] != '"') i += text_[i] == '\\' ? 2 : 1;
    cursor_ = i + 1;
    return at;
  }
  bool number() {
    const std::size_t at = next_token();
    std::size_t i = at;
    while (i < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[i])) || text_[i] == '-' ||
            text_[i] == '+' || text_[i] == '.' || text_[i] == 'e' || text_[i] == 'E'))
      ++i;
    cursor_ = i;
    scalar(at, text_.substr(at, i - at));
    return true;
  }
  void scalar(std::size_t at, std::string value) {
    auto n = std::make_shared<sim::ConfigNode>();
    n->kind = Kind::kScalar;
    n->scalar = std::move(value);
    n->pos = pos_at(at);
    attach(n);
  }
  bool open(Kind kind) {
    const std::size_t at = next_token();
    cursor_ = at + 1;
    auto n = std::make_shared<sim::ConfigNode>();
    n->kind = kind;
    n->pos = pos_at(at);
    attach(n);
    stack_.push_back(n);
    return true;
  }
  bool close() {
    cursor_ = next_token() + 1;
    stack_.pop_back();
    return true;
  }
  void attach(const NodePtr& n) {
    if (stack_.empty()) {
      root_ = n;
      return;
    }
    sim::ConfigNode& parent = *stack_.back();
    if (parent.kind == Kind::kSeq) {
      parent.items.push_back(n);
      return;
    }
    if (parent.find(key_)) throw sim::InputError(key_pos_, fmt::format("duplicate key '{}'", key_));
    n->key_pos = key_pos_;
    parent.entries.emplace_back(key_, n);
  }

  const std::string& text_;
  const std::string& source_;
  std::size_t cursor_ = 0;
  std::size_t counted_ = 0;
  int line_ = 1, col_ = 1;
  std::string part_, key_;
  sim::SourcePos key_pos_;
  std::vector<NodePtr> stack_;
  NodePtr root_;
};

}  // namespace

NodePtr parse_json_nodes(const std::string& text, const std::string& source_name) {
  boost::json::basic_parser<NodeBuilder> parser(boost::json::parse_options{}, text, source_name);
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) throw sim::InputError(parser.handler().pos_at(used), "invalid JSON: " + ec.message());
  std::size_t rest = used;
  while (rest < text.size() && std::isspace(static_cast<unsigned char>(text[rest]))) ++rest;
  if (rest < text.size())
    throw sim::InputError(parser.handler().pos_at(rest), "unexpected text after the JSON value");
  return parser.handler().root();
}

}  // namespace workloads
