// The contents of a file being written through the mount, as plaintext operations over its staging file:
// encrypted (crypto::CipherFileEditor) on an encrypted mount, or plain positional I/O on a `none` mount.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "crypto/cipher_spec.h"
#include "fs/fd_file_io.h"

namespace pgbr::fs {

class ContentEditor {
 public:
  virtual ~ContentEditor() = default;
  virtual std::uint64_t size() const = 0;
  // Where a write streams straight through (encrypted content: the end of what is encrypted; a write beyond it is
  // held in memory until the gap fills); nullopt when any offset is as good (plain content).
  virtual std::optional<std::uint64_t> streamingOffset() const = 0;
  virtual void write(std::uint64_t offset, ByteView data) = 0;
  // A sequential append whose bytes the caller writes to the staging file itself, outside its lock (see
  // crypto::CipherFileEditor::encryptAppend): the bytes to write (in `scratch`) and where; nullopt when the write
  // does not qualify (then call write()). Until they are written nothing may read, rewrite or finish the file.
  struct Prepared {
    std::uint64_t offset;
    ByteView bytes;
  };
  virtual std::optional<Prepared> prepareAppend(std::uint64_t offset, ByteView data, std::vector<std::uint8_t>& scratch) = 0;
  virtual void truncate(std::uint64_t size) = 0;
  virtual std::size_t read(std::uint64_t offset, MutableByteView out) = 0;
  // Makes the staging file complete (final cipher block), ready to be published.
  virtual void finish() = 0;

  // A new, empty file in `fd` (which must be empty).
  static std::unique_ptr<ContentEditor> create(const crypto::CipherSpec& spec, int fd, const std::string& name);
  // Continues the complete file already in `fd` (validated; throws CryptoError on a corrupt one).
  static std::unique_ptr<ContentEditor> open(const crypto::CipherSpec& spec, int fd, const std::string& name);
};

}  // namespace pgbr::fs
