// A Lua state's memory: everything it holds is counted against a cap, and
// small blocks come from free lists. A transform call allocates and frees a
// table, its hash part and a string per record; a free list serves those
// several times faster than malloc does.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice {

class LuaBudget;

class LuaHeap {
 public:
  explicit LuaHeap(size_t cap) : cap_(cap) {}
  LuaHeap(const LuaHeap&) = delete;
  LuaHeap& operator=(const LuaHeap&) = delete;
  ~LuaHeap();

  // lua_Alloc, with `ud` a LuaHeap.
  static void* allocate(void* ud, void* ptr, size_t osize, size_t nsize);

  // Only scripts are capped: the host's own pushes (decoding a record) run
  // outside a protected call, where a failed allocation would abort.
  void enforce(bool on) { enforce_ = on; }
  // True when an allocation failed on the cap since the last reset.
  bool overrun() const { return overrun_; }
  void reset_overrun() { overrun_ = false; }
  size_t used() const { return used_; }
  // The most the state has held at once since the heap was made.
  size_t peak() const { return peak_; }
  size_t cap() const { return cap_; }
  // Told when an allocation fails on the cap for good: Lua retries a failed
  // one once, after an emergency collection, and only then raises.
  void report_exhaustion_to(LuaBudget* budget) { budget_ = budget; }

 private:
  static constexpr size_t kGranule = 16;
  static constexpr size_t kSmallMax = 256;  // larger blocks go to malloc
  static constexpr size_t kClasses = kSmallMax / kGranule;
  static constexpr size_t kSlabBytes = 64 * 1024;
  struct FreeBlock {
    FreeBlock* next;
  };

  static size_t size_class(size_t size) { return (size - 1) / kGranule; }
  void* take(size_t size);
  void give_back(void* block, size_t size);
  void* resize(void* ptr, size_t old, size_t size);

  size_t cap_;
  size_t used_ = 0;
  size_t peak_ = 0;
  bool enforce_ = false;
  LuaBudget* budget_ = nullptr;
  // The request that last failed on the cap, to tell Lua's retry of it.
  struct Request {
    void* ptr;
    size_t old, size;
    bool operator==(const Request&) const = default;
  };
  Request failed_{nullptr, 0, 0};
  bool overrun_ = false;
  FreeBlock* free_[kClasses] = {};
  // Small blocks are cut from slabs, which are kept until the state closes:
  // what a state once held it is likely to need again.
  std::vector<void*> slabs_;
  char* slab_next_ = nullptr;
  size_t slab_left_ = 0;
};

}  // namespace sluice
