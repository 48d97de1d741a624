#pragma once
// Handler: a move-only `void()` callable stored inline in an event. Captures up to
// Handler::kInline bytes (e.g. `this` plus three words) need no heap allocation; larger ones
// fall back to one. Trivially copyable captures (the usual case) are relocated by memcpy, which
// keeps event-queue moves as cheap as moving plain data.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

class Handler {
 public:
  static constexpr std::size_t kInline = 32;

  Handler() = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Handler> && std::is_invocable_v<D&>>>
  Handler(F&& f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly
    construct(std::forward<F>(f));
  }

  // Replaces the callable in place (no temporary Handler, no second move).
  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Handler> && std::is_invocable_v<D&>>>
  void emplace(F&& f) {
    reset();
    construct(std::forward<F>(f));
  }

  Handler(Handler&& o) noexcept { take(o); }
  Handler& operator=(Handler&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;
  ~Handler() { reset(); }

  void operator()() { ops_->invoke(buf_); }
  explicit operator bool() const { return ops_ != nullptr; }

  void reset() {
    if (ops_ && ops_->destroy) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  template <class F, class D = std::decay_t<F>>
  void construct(F&& f) {
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* p = new D(std::forward<F>(f));
      std::memcpy(buf_, &p, sizeof p);
      ops_ = &kHeapOps<D>;
    }
  }

  struct Ops {
    void (*invoke)(void*);
    void (*relocate)(void* dst, void* src);  // null: memcpy is enough
    void (*destroy)(void*);                  // null: nothing to do
  };

  template <class D>
  static constexpr bool fits_inline() {
    return sizeof(D) <= kInline && alignof(D) <= 8 &&
           std::is_nothrow_move_constructible_v<D>;
  }

  template <class D>
  static constexpr Ops kInlineOps{
      [](void* p) { (*std::launder(static_cast<D*>(p)))(); },
      std::is_trivially_copyable_v<D> ? nullptr
                                      : +[](void* dst, void* src) {
                                          D* s = std::launder(static_cast<D*>(src));
                                          ::new (dst) D(std::move(*s));
                                          s->~D();
                                        },
      std::is_trivially_destructible_v<D> ? nullptr
                                          : +[](void* p) { std::launder(static_cast<D*>(p))->~D(); }};

  template <class D>
  static constexpr Ops kHeapOps{[](void* p) {
                                  D* f;
                                  std::memcpy(&f, p, sizeof f);
                                  (*f)();
                                },
                                nullptr, [](void* p) {
                                  D* f;
                                  std::memcpy(&f, p, sizeof f);
                                  delete f;
                                }};

  void take(Handler& o) noexcept {
    ops_ = o.ops_;
    if (ops_) {
      if (ops_->relocate)
        ops_->relocate(buf_, o.buf_);
      else
        std::memcpy(buf_, o.buf_, kInline);
      o.ops_ = nullptr;
    }
  }

  alignas(8) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

}  // namespace sim
