// An out-of-tree plugin, built as a shared library by the tests and loaded with Boost.DLL.
#include "greeter.hpp"

namespace {

class Shouter final : public testing::Greeter {
 public:
  explicit Shouter(const sim::Config& c) : marks_(c.get_int("marks", 1)) {}
  std::string greet(const std::string& who) const override {
    return "HELLO " + who + std::string(static_cast<std::size_t>(marks_), '!');
  }

 private:
  std::int64_t marks_;
};

}  // namespace

WARPSIM_PLUGIN_ENTRY {
  testing::greeters(catalog).add("shouter", "greets loudly (from a plugin)",
                                 {{"marks", "int", "1", "exclamation marks"}},
                                 [](const sim::Config& c) { return std::make_unique<Shouter>(c); });
}
