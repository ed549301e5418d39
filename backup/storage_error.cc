#include "backup/storage_error.h"

#include <cerrno>
#include <cstring>

namespace pgbr::backup {

StorageError StorageError::fromErrno(const std::string& what, int error) {
  std::string reason = std::strerror(error);
  // openat2(RESOLVE_BENEATH) answers EXDEV when a symlink on the path leads out of the repository; "Invalid
  // cross-device link" alone would send the user looking for a mount problem.
  if (error == EXDEV) reason += " (a symbolic link on this path leads outside the repository, which is never followed)";
  // O_NOFOLLOW answers ELOOP for a file that is a symlink: repository files are read only when they are real files.
  if (error == ELOOP) reason += " (a symbolic link where a file is expected, which is not followed)";
  return StorageError(what + ": [" + std::to_string(error) + "] " + reason, error);
}

}  // namespace pgbr::backup
