// Memory for key material: its own anonymous mapping per allocation, locked into RAM (mlock: never written to
// swap) and marked MADV_DONTDUMP (left out of core dumps), wiped before it is unmapped. Both are best effort: a
// process without CAP_IPC_LOCK may exceed RLIMIT_MEMLOCK, and then the memory is only excluded from dumps.
// Used through LockedAllocator by crypto::Secret; a page per live secret is cheap because few are alive at once.
#pragma once

#include <cstddef>
#include <new>

namespace pgbr::crypto {

// Page-rounded mapping of at least `size` bytes; throws std::bad_alloc when mmap fails.
void* allocateLocked(std::size_t size);
// Wipes `size` bytes, unlocks and unmaps. `size` is the one given to allocateLocked().
void freeLocked(void* data, std::size_t size) noexcept;

// How many allocations could not be locked (RLIMIT_MEMLOCK); for tests and diagnostics.
std::size_t lockedMemoryFailures() noexcept;

template <typename T>
struct LockedAllocator {
  using value_type = T;
  LockedAllocator() = default;
  template <typename U>
  LockedAllocator(const LockedAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): allocator rebind
  T* allocate(std::size_t n) { return static_cast<T*>(allocateLocked(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { freeLocked(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LockedAllocator<U>&) const noexcept { return true; }
};

}  // namespace pgbr::crypto
