// Small helpers shared by the filter implementations in backup/ (not part of the public API): clamping
// spans to the 32-bit lengths of C compression libraries, and a fixed staging area for output that a
// library wrote in one piece but the caller's buffer could not take yet.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "crypto/bytes.h"

namespace pgbr::backup {

// The part of a buffer length a library with 32-bit lengths can take in one call.
inline unsigned int clampToUInt(std::size_t size) {
  return static_cast<unsigned int>(std::min<std::size_t>(size, std::numeric_limits<unsigned int>::max()));
}

// Fixed capacity, allocated once. fill() the whole space() only when empty(); drain() hands bytes out in order.
class PendingOutput {
 public:
  explicit PendingOutput(std::size_t capacity)
      : buffer_(std::make_unique<std::uint8_t[]>(capacity)), capacity_(capacity) {}

  MutableByteView space() { return {buffer_.get(), capacity_}; }
  void fill(std::size_t size) {
    begin_ = 0;
    end_ = size;
  }
  bool empty() const { return begin_ == end_; }
  std::size_t drain(MutableByteView out) {
    const std::size_t size = std::min(out.size(), end_ - begin_);
    if (size != 0) std::memcpy(out.data(), buffer_.get() + begin_, size);
    begin_ += size;
    return size;
  }

 private:
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace pgbr::backup
