// Errors inside the daemon and their errno. Everything below the FUSE boundary throws; one wrapper at the boundary
// (fuse_bridge.cc) turns exceptions into the errno the kernel gets: decrypt, format and checksum failures are EIO,
// std::bad_alloc is ENOMEM, an unknown exception is EIO.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace pgbr::fs {

// A failure with a definite errno (ENOENT, EXDEV, ENOSPC, ...).
class FsError : public std::runtime_error {
 public:
  FsError(int error, const std::string& message) : std::runtime_error(message), errno_(error) {}
  static FsError fromErrno(int error, const std::string& what);
  int errorNumber() const noexcept { return errno_; }

 private:
  int errno_;
};

// The errno for an exception caught at the boundary.
int errnoFor(const std::exception& error);
// Errors the user should hear about (data problems), as opposed to ordinary results such as ENOENT.
bool worthLogging(int error);

}  // namespace pgbr::fs
