#include "transform/lua_heap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace sluice {
namespace {

void* grow(LuaHeap& heap, void* p, size_t old, size_t size) { return LuaHeap::allocate(&heap, p, old, size); }

TEST(LuaHeap, KeepsContentsAcrossResizesAndCountsEveryByte) {
  LuaHeap heap(1u << 20);
  // Across the small size classes, into malloc's range and back.
  const size_t sizes[] = {1, 8, 16, 17, 40, 255, 256, 257, 4000, 100, 3};
  size_t old = 0;
  void* p = nullptr;
  for (size_t size : sizes) {
    p = grow(heap, p, old, size);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_EQ(heap.used(), size);
    const size_t kept = std::min(old, size);
    for (size_t i = 0; i < kept; ++i) ASSERT_EQ(static_cast<unsigned char*>(p)[i], static_cast<unsigned char>(i)) << size;
    for (size_t i = 0; i < size; ++i) static_cast<unsigned char*>(p)[i] = static_cast<unsigned char>(i);
    old = size;
  }
  EXPECT_EQ(grow(heap, p, old, 0), nullptr);
  EXPECT_EQ(heap.used(), 0u);
}

TEST(LuaHeap, ReusesFreedSmallBlocksAndKeepsLiveOnesApart) {
  LuaHeap heap(1u << 20);
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) {
    blocks.push_back(grow(heap, nullptr, 0, 48));
    std::memset(blocks.back(), i & 0xff, 48);
  }
  for (int i = 0; i < 1000; ++i)
    for (int b = 0; b < 48; ++b) ASSERT_EQ(static_cast<unsigned char*>(blocks[i])[b], static_cast<unsigned char>(i & 0xff));
  void* freed = blocks[500];
  grow(heap, freed, 48, 0);
  EXPECT_EQ(grow(heap, nullptr, 0, 40), freed);  // same size class
  EXPECT_EQ(heap.used(), 1000u * 48 - 48 + 40);
}

TEST(LuaHeap, RefusesToGrowPastTheCapOnlyWhenEnforced) {
  LuaHeap heap(1000);
  void* p = grow(heap, nullptr, 0, 900);
  void* q = grow(heap, nullptr, 0, 200);  // the host's own pushes are not capped
  ASSERT_NE(p, nullptr);
  ASSERT_NE(q, nullptr);
  heap.enforce(true);
  EXPECT_EQ(grow(heap, nullptr, 0, 16), nullptr);
  EXPECT_TRUE(heap.overrun());
  void* shrunk = grow(heap, p, 900, 100);  // shrinking always succeeds
  ASSERT_NE(shrunk, nullptr);
  EXPECT_EQ(heap.used(), 300u);
  void* r = grow(heap, nullptr, 0, 16);
  EXPECT_NE(r, nullptr);
  heap.reset_overrun();
  EXPECT_FALSE(heap.overrun());
  heap.enforce(false);
  grow(heap, r, 16, 0);
  grow(heap, q, 200, 0);
  grow(heap, shrunk, 100, 0);
  EXPECT_EQ(heap.used(), 0u);
}

}  // namespace
}  // namespace sluice
