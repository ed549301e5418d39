#include "fs/fd_file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/fs_error.h"

namespace pgbr::fs {

std::size_t preadFull(int fd, std::uint64_t offset, MutableByteView out, const std::string& name) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FsError::fromErrno(errno, "unable to read '" + name + "'");
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

void FdFileIo::readAt(std::uint64_t offset, MutableByteView out) {
  if (preadFull(fd_, offset, out, name_) != out.size())
    throw FsError(EIO, "unexpected end of file reading '" + name_ + "' (truncated?)");
}

void FdFileIo::writeAt(std::uint64_t offset, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FsError::fromErrno(errno, "unable to write '" + name_ + "'");
    done += static_cast<std::size_t>(n);
  }
}

void FdFileIo::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
    throw FsError::fromErrno(errno, "unable to truncate '" + name_ + "'");
}

std::uint64_t FdFileIo::size() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw FsError::fromErrno(errno, "unable to stat '" + name_ + "'");
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace pgbr::fs
