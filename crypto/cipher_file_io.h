// The random-access byte file that holds a cipher file while it is being edited (a staging file, in the daemon).
// Kept abstract so the cipher layer stays free of file systems and can be tested in memory.
#pragma once

#include <cstdint>

#include "crypto/bytes.h"

namespace pgbr::crypto {

class CipherFileIo {
 public:
  virtual ~CipherFileIo() = default;
  // Reads exactly out.size() bytes at `offset`; throws (any std::exception) on error or short read.
  virtual void readAt(std::uint64_t offset, MutableByteView out) = 0;
  // Writes all of `data` at `offset`, extending the file if needed; throws on error (ENOSPC, EIO, ...).
  virtual void writeAt(std::uint64_t offset, ByteView data) = 0;
  virtual void truncate(std::uint64_t size) = 0;
  virtual std::uint64_t size() = 0;
};

}  // namespace pgbr::crypto
