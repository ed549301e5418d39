#include "crypto/locked_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include <openssl/crypto.h>

namespace pgbr::crypto {
namespace {

std::atomic<std::size_t> failures{0};

std::size_t pageRounded(std::size_t size) {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

}  // namespace

void* allocateLocked(std::size_t size) {
  const std::size_t length = pageRounded(size == 0 ? 1 : size);
  void* data = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) throw std::bad_alloc();
  ::madvise(data, length, MADV_DONTDUMP);
  if (::mlock(data, length) != 0) failures.fetch_add(1, std::memory_order_relaxed);
  return data;
}

void freeLocked(void* data, std::size_t size) noexcept {
  if (data == nullptr) return;
  const std::size_t length = pageRounded(size == 0 ? 1 : size);
  OPENSSL_cleanse(data, length);
  ::munlock(data, length);
  ::munmap(data, length);
}

std::size_t lockedMemoryFailures() noexcept { return failures.load(std::memory_order_relaxed); }

}  // namespace pgbr::crypto
