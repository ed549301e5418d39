// The repository as the mount shows it, as a backup::Storage: every access goes through PgbrFs, so reads are
// decrypted and writes are encrypted with the key of their path, staged and published atomically with fsync
// (PgbrFs::flush), exactly as if a tool had written them through the FUSE mount. Views use it to run the backup/
// library code (archive-push, archive-get) inside the daemon. Never use it for a path a view serves.
#pragma once

#include <string>

#include "backup/storage.h"
#include "fs/pgbrfs.h"

namespace pgbr::fs {

class MountStorage final : public backup::Storage {
 public:
  // Files and directories it creates are owned by `caller`.
  MountStorage(PgbrFs& fs, Caller caller) : fs_(fs), caller_(caller) {}

  std::optional<Bytes> get(const std::string& path) override;
  std::optional<backup::StorageInfo> info(const std::string& path) override;
  std::optional<std::vector<std::string>> list(const std::string& path) override;
  // Written under its own name: staging already makes the publish atomic, so no "<path>.pgbackrest.tmp" is needed.
  void put(const std::string& path, ByteView data, const backup::StorageWriteOptions& options = {}) override;
  bool remove(const std::string& path) override;

 private:
  void makeParents(const std::string& dir);

  PgbrFs& fs_;
  Caller caller_;
};

}  // namespace pgbr::fs
