#include "sim/event_queue.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace sim {
namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kChunkSlots = std::size_t{1} << 15;
}  // namespace

EventQueue::Slot* EventQueue::new_chunk() {
  const std::size_t bytes = (kChunkSlots * sizeof(Slot) + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (!p) throw std::bad_alloc();
  ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without huge pages it still works
  Slot* slots = static_cast<Slot*>(p);
  for (std::size_t i = 0; i < kChunkSlots; ++i) ::new (&slots[i]) Slot();
  return slots;
}

void EventQueue::ChunkFree::operator()(Slot* p) const {
  for (std::size_t i = 0; i < kChunkSlots; ++i) p[i].~Slot();
  std::free(p);
}

}  // namespace sim
