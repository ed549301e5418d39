// crypto::CipherFileIo over a file descriptor: positional reads and writes that retry on EINTR and short
// transfers, and report failures (ENOSPC, EIO) as FsError with the file named.
#pragma once

#include <string>

#include "crypto/cipher_file_io.h"

namespace pgbr::fs {

class FdFileIo : public crypto::CipherFileIo {
 public:
  FdFileIo(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void readAt(std::uint64_t offset, MutableByteView out) override;
  void writeAt(std::uint64_t offset, ByteView data) override;
  void truncate(std::uint64_t size) override;
  std::uint64_t size() override;

 private:
  int fd_;
  std::string name_;  // for messages
};

// Reads up to out.size() bytes at `offset`; returns the count (short only at end of file). Throws FsError.
std::size_t preadFull(int fd, std::uint64_t offset, MutableByteView out, const std::string& name);

}  // namespace pgbr::fs
