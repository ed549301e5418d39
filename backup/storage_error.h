// Errors from repository storage: what failed, on which path, and the system's reason (errno kept for the daemon).
#pragma once

#include <stdexcept>
#include <string>

namespace pgbr::backup {

class StorageError : public std::runtime_error {
 public:
  StorageError(const std::string& message, int error) : std::runtime_error(message), errno_(error) {}
  // "<what>: [<errno>] <strerror>", pgBackRest's shape for file errors.
  static StorageError fromErrno(const std::string& what, int error);
  int errorNumber() const noexcept { return errno_; }

 private:
  int errno_;
};

}  // namespace pgbr::backup
