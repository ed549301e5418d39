// gzip of content that arrives in order, deflated in parts on other threads while the rest is still arriving (the
// technique of pigz), for the WAL inbox of pgbrfs: each part is raw deflate with the 32 KiB before it as its
// dictionary, ended byte-aligned by a sync flush; finish() adds an empty final block and the trailer (the parts'
// CRC-32s combined, the size). The result is one gzip member with the header newGzCompress() writes, so any gzip
// reader (pgBackRest's zlib, gzip, our own) reads it as it reads newGzCompress()'s output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <vector>

#include "crypto/bytes.h"

namespace pgbr::backup {

class GzParts {
 public:
  static constexpr std::size_t kDefaultPartSize = 2u << 20;

  // `level` is pgBackRest's gz level (0..9, mapped as gzIsalLevel does). Throws std::invalid_argument out of range.
  explicit GzParts(int level, std::size_t partSize = kDefaultPartSize);
  // Waits for the parts still being deflated (they read the caller's content).
  ~GzParts();
  GzParts(const GzParts&) = delete;
  GzParts& operator=(const GzParts&) = delete;

  // `content` is everything received so far; its bytes must stay where they are, unchanged, until finish() returns
  // or this object is destroyed. Starts deflating every whole part it completes.
  void received(ByteView content);
  // `content` is the whole input (received() before with a prefix of it, or never): deflates the rest, waits for
  // every part and returns the gzip member. Throws std::runtime_error on an ISA-L error.
  Bytes finish(ByteView content);

 private:
  struct Part {
    Bytes deflated;
    std::uint32_t crc = 0;
    std::size_t size = 0;
  };
  void start(ByteView content, std::size_t end);
  void waitAll() noexcept;

  int level_;
  int isalLevel_;
  std::size_t partSize_;
  std::size_t started_ = 0;  // bytes handed to parts so far
  std::vector<std::future<Part>> parts_;
};

}  // namespace pgbr::backup
