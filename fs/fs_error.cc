#include "fs/fs_error.h"

#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "backup/storage_error.h"

namespace pgbr::fs {

FsError FsError::fromErrno(int error, const std::string& what) {
  return FsError(error, what + ": [" + std::to_string(error) + "] " + std::strerror(error));
}

int errnoFor(const std::exception& error) {
  if (const auto* fs = dynamic_cast<const FsError*>(&error)) return fs->errorNumber();
  if (const auto* storage = dynamic_cast<const backup::StorageError*>(&error)) return storage->errorNumber();
  if (const auto* system = dynamic_cast<const std::system_error*>(&error)) return system->code().value();
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) return ENOMEM;
  // Cipher, format, checksum and key errors, and anything unforeseen: the data cannot be served.
  return EIO;
}

bool worthLogging(int error) {
  switch (error) {
    case ENOENT:
    case EEXIST:
    case ENOTEMPTY:
    case EXDEV:
    case ENODATA:
    case EACCES:
    case EPERM:
    case EISDIR:
    case ENOTDIR:
    case EINVAL:
      return false;
    default:
      return true;
  }
}

}  // namespace pgbr::fs
