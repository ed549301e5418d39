#include "backup/storage_error.h"

#include <cstring>

namespace pgbr::backup {

StorageError StorageError::fromErrno(const std::string& what, int error) {
  return StorageError(what + ": [" + std::to_string(error) + "] " + std::strerror(error), error);
}

}  // namespace pgbr::backup
