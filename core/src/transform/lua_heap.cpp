#include "transform/lua_heap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "transform/lua_budget.h"

namespace sluice {

LuaHeap::~LuaHeap() {
  for (void* slab : slabs_) std::free(slab);
}

void* LuaHeap::take(size_t size) {
  const size_t c = size_class(size);
  if (FreeBlock* block = free_[c]) {
    free_[c] = block->next;
    return block;
  }
  const size_t rounded = (c + 1) * kGranule;
  if (slab_left_ < rounded) {
    // The rest of the old slab is too small for this class; it stays unused.
    void* slab = std::malloc(kSlabBytes);
    if (!slab) return nullptr;
    try {
      slabs_.push_back(slab);
    } catch (...) {
      std::free(slab);
      return nullptr;
    }
    slab_next_ = static_cast<char*>(slab);
    slab_left_ = kSlabBytes;
  }
  void* block = slab_next_;
  slab_next_ += rounded;
  slab_left_ -= rounded;
  return block;
}

void LuaHeap::give_back(void* block, size_t size) {
  auto* b = static_cast<FreeBlock*>(block);
  const size_t c = size_class(size);
  b->next = free_[c];
  free_[c] = b;
}

void* LuaHeap::resize(void* ptr, size_t old, size_t size) {
  const bool was_small = old <= kSmallMax, small = size <= kSmallMax;
  if (!ptr) return small ? take(size) : std::malloc(size);
  if (was_small && small && size_class(old) == size_class(size)) return ptr;
  if (!was_small && !small) return std::realloc(ptr, size);
  void* moved = small ? take(size) : std::malloc(size);
  if (!moved) return nullptr;  // Lua keeps the old block on failure
  std::memcpy(moved, ptr, std::min(old, size));
  if (was_small) give_back(ptr, old);
  else std::free(ptr);
  return moved;
}

void* LuaHeap::allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* heap = static_cast<LuaHeap*>(ud);
  const size_t old = ptr ? osize : 0;  // without ptr, osize names a type, not a size
  if (nsize == 0) {
    if (ptr) {
      if (old <= kSmallMax) heap->give_back(ptr, old);
      else std::free(ptr);
    }
    heap->used_ -= old;
    return nullptr;
  }
  if (heap->enforce_ && nsize > old && heap->used_ - old + nsize > heap->cap_) {
    heap->overrun_ = true;
    const Request request{ptr, old, nsize};
    if (request == heap->failed_ && heap->budget_) heap->budget_->memory_exhausted();
    heap->failed_ = request;
    return nullptr;
  }
  void* p = heap->resize(ptr, old, nsize);
  if (p) {
    heap->used_ = heap->used_ - old + nsize;
    heap->peak_ = std::max(heap->peak_, heap->used_);
    heap->failed_ = {nullptr, 0, 0};
  }
  return p;
}

}  // namespace sluice
