// The caching CPU allocator (see allocator.cc).
#pragma once
#include <cstddef>
#include <cstdint>

namespace selfsup {

struct AllocatorStats {
  size_t liveBytes = 0;      // large blocks handed out now
  size_t peakLiveBytes = 0;  // most large-block bytes handed out at once
  size_t cachedBytes = 0;    // freed large blocks kept for reuse
  uint64_t hits = 0;         // large allocations served from the cache
  uint64_t misses = 0;       // large allocations that went to malloc
};

/** Makes the caching allocator libtorch's CPU allocator (unless SELFSUP_CPU_ALLOCATOR=default). */
void installCachingAllocator();
bool cachingAllocatorInstalled();
AllocatorStats allocatorStats();
/** Returns every cached block to the system. */
void emptyAllocatorCache();

}  // namespace selfsup
