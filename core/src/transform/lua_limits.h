// What one call of a transform may spend.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sluice {

struct TransformLimits {
  int64_t instructions = 10'000'000;  // per call of a script's function
  size_t memory_bytes = 64u << 20;    // per Lua state, everything it holds
  // Wall-clock time of one call, the backstop for work no count sees; zero:
  // derived from the instruction budget (time_budget_for).
  std::chrono::milliseconds time{0};
};

// One second, plus a tenth of a microsecond per instruction of the budget
// (two seconds for the default): many times what the budget takes to run,
// so that only a call stuck in a library function reaches it.
inline std::chrono::milliseconds time_budget_for(const TransformLimits& limits) {
  if (limits.time.count() > 0) return limits.time;
  return std::chrono::milliseconds(1000 + std::max<int64_t>(limits.instructions, 0) / 10'000);
}

}  // namespace sluice
