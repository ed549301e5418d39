// Storage on a local directory. Every access resolves beneath the root (openat2 RESOLVE_BENEATH), so neither a
// crafted path nor a symlink planted in the repository can reach files outside it.
#pragma once

#include <string>

#include "backup/storage.h"

namespace pgbr::backup {

class PosixStorage : public Storage {
 public:
  // Opens `root`; throws StorageError when it is missing or not a directory.
  explicit PosixStorage(const std::string& root);
  ~PosixStorage() override;
  PosixStorage(const PosixStorage&) = delete;
  PosixStorage& operator=(const PosixStorage&) = delete;

  const std::string& root() const { return root_; }
  int rootFd() const { return rootFd_; }

  std::optional<Bytes> get(const std::string& path) override;
  std::optional<StorageInfo> info(const std::string& path) override;
  std::optional<std::vector<std::string>> list(const std::string& path) override;
  void put(const std::string& path, ByteView data, const StorageWriteOptions& options = {}) override;
  bool remove(const std::string& path) override;
  // Renames `from` to `to` (both beneath the root; replaces `to`). Throws StorageError naming both paths.
  void rename(const std::string& from, const std::string& to);
  // Removes the directory `path` and everything below it (links are removed, never followed); returns false
  // when nothing existed at `path`. Throws StorageError naming the entry that could not be removed.
  bool removePath(const std::string& path);

  // Opens `path` beneath the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Returns -1 with errno
  // set on failure (ENOENT for a missing file, EXDEV for an escape attempt).
  int openBeneath(const std::string& path, int flags, mode_t mode = 0) const;

 private:
  void makeParents(const std::string& path);

  std::string root_;
  int rootFd_ = -1;
};

}  // namespace pgbr::backup
