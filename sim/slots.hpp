#pragma once
// Objects addressed by a stable 32-bit id that events and callbacks can carry (cheaper than a
// pointer to keep valid), with the ids of released objects reused, so a model that starts and
// ends millions of them allocates only while its peak grows.

#include <cstdint>
#include <vector>

namespace sim {

template <class T>
class Slots {
 public:
  // A fresh T under a new or a released id.
  std::uint32_t acquire() {
    if (free_.empty()) {
      items_.emplace_back();
      return static_cast<std::uint32_t>(items_.size() - 1);
    }
    const std::uint32_t id = free_.back();
    free_.pop_back();
    items_[id] = T{};
    return id;
  }
  // The id may be handed out again; its object stays readable until then.
  void release(std::uint32_t id) { free_.push_back(id); }

  T& operator[](std::uint32_t id) { return items_[id]; }
  const T& operator[](std::uint32_t id) const { return items_[id]; }
  // Every object ever handed out, live or released, in id order (a T says which it is).
  std::uint32_t size() const { return static_cast<std::uint32_t>(items_.size()); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<T> items_;
  std::vector<std::uint32_t> free_;
};

}  // namespace sim
