#include "fs/backing_reader.h"

#include <sys/stat.h>

#include <cerrno>

#include "fs/fd_file_io.h"
#include "fs/fs_error.h"

namespace pgbr::fs {

namespace {

crypto::RandomAccessDecryptor makeDecryptor(int fd, std::uint64_t cipherSize, const crypto::CipherSpec& spec,
                                            const std::string& name) {
  std::uint8_t header[crypto::offsets::kHeaderSize];
  const std::size_t got = preadFull(fd, 0, MutableByteView(header, sizeof(header)), name);
  return crypto::RandomAccessDecryptor(spec.pass(), ByteView(header, got), cipherSize);
}

std::uint64_t fileSize(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw FsError::fromErrno(errno, "unable to stat '" + name + "'");
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

BackingReader::BackingReader(UniqueFd fd, const crypto::CipherSpec& spec, std::string name)
    : fd_(std::move(fd)), name_(std::move(name)) {
  const std::uint64_t cipherSize = fileSize(fd_.get(), name_);
  if (!spec.encrypted()) {
    plainSize_ = cipherSize;
    return;
  }
  std::uint8_t header[crypto::offsets::kHeaderSize];
  const std::size_t got = preadFull(fd_.get(), 0, MutableByteView(header, sizeof(header)), name_);
  decryptor_.emplace(spec.pass(), ByteView(header, got), cipherSize);
  FdFileIo io(fd_.get(), name_);
  plainSize_ = decryptor_->plainSize([&io](std::uint64_t offset, MutableByteView out) { io.readAt(offset, out); });
}

std::size_t BackingReader::read(std::uint64_t offset, MutableByteView out) const {
  if (!decryptor_) {
    if (offset >= plainSize_) return 0;
    return preadFull(fd_.get(), offset, out.first(static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), plainSize_ - offset))), name_);
  }
  const int fd = fd_.get();
  const std::string& name = name_;
  return decryptor_->read(
      [fd, &name](std::uint64_t at, MutableByteView dest) {
        if (preadFull(fd, at, dest, name) != dest.size())
          throw FsError(EIO, "unexpected end of file reading '" + name + "' (truncated while open?)");
      },
      offset, out, plainSize_);
}

std::uint64_t BackingReader::plainSizeOf(int fd, std::uint64_t cipherSize, const crypto::CipherSpec& spec,
                                         const std::string& name) {
  if (!spec.encrypted()) return cipherSize;
  const crypto::RandomAccessDecryptor decryptor = makeDecryptor(fd, cipherSize, spec, name);
  FdFileIo io(fd, name);
  return decryptor.plainSize([&io](std::uint64_t offset, MutableByteView out) { io.readAt(offset, out); });
}

}  // namespace pgbr::fs
