// Shared by the libFuzzer targets in this directory (see tests/stress/fuzz). A target returns normally when the
// product code rejected the input with one of its documented errors; anything else (another exception type, a
// broken invariant, a sanitizer report, a hang) is a finding. Invariant failures abort with a message so that
// libFuzzer keeps the input as a crash artifact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pgbr::fuzz {

[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void check(bool condition, std::string_view what) {
  if (!condition) fail(what);
}

// Deterministic chunk sizes derived from the input, so that a crash reproduces from the input file alone and
// the stream code sees every split (1-byte pieces, block-sized pieces, large pieces).
class Chunker {
 public:
  explicit Chunker(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::size_t next(std::size_t remaining) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    static constexpr std::size_t kSizes[] = {1, 3, 15, 16, 17, 64, 4096, 65536};
    const std::size_t size = kSizes[state_ % (sizeof(kSizes) / sizeof(kSizes[0]))];
    return size < remaining ? size : remaining;
  }

 private:
  std::uint64_t state_;
};

inline std::uint64_t seedOf(const std::uint8_t* data, std::size_t size) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (std::size_t i = 0; i < size && i < 64; ++i) hash = (hash ^ data[i]) * 1099511628211ULL;
  return hash ^ size;
}

}  // namespace pgbr::fuzz
