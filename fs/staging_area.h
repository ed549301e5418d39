// Where files being written through the mount are staged: the directory ".pgbrfs-staging" at the root of the
// backing directory (ciphertext only on an encrypted mount). Keeping staging files out of the repository's own
// directories means pgBackRest never meets one, a directory holding an open file can still be renamed or removed,
// and an open file that was unlinked keeps a place to be written to. A staged file is published by renaming it
// over its target (same file system, so atomic). The directory is locked (flock) by the daemon that serves it;
// whatever is in it when a daemon starts was left by a killed one and is removed.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "backup/posix_storage.h"
#include "backup/unique_fd.h"

namespace pgbr::fs {

using backup::UniqueFd;

inline constexpr const char* kStagingDirName = ".pgbrfs-staging";

// Names the mount hides and refuses to create: the staging directory (at the root) and the staging files that
// daemons before it kept beside their targets (".pgbrfs-stage.*", removed by rmdir).
bool isStagingName(std::string_view name);
bool isHiddenPath(const std::string& path);

class StagingArea {
 public:
  struct File {
    UniqueFd fd;       // O_RDWR, empty, mode 0600
    std::string name;  // within the staging directory
  };

  // Creates the directory if needed, locks it and removes leftovers. Throws FsError(EBUSY) when another daemon
  // holds the lock. On a read-only backing directory the area stays unavailable and create() fails with EROFS.
  explicit StagingArea(backup::PosixStorage& storage);

  File create();
  void remove(const std::string& name) noexcept;
  // The staging directory, for renameat() at publish. -1 when unavailable.
  int dirFd() const { return dir_.get(); }
  std::size_t leftoversRemoved() const { return leftoversRemoved_; }

 private:
  UniqueFd dir_;
  int unavailableErrno_ = 0;
  std::atomic<std::uint64_t> sequence_{0};
  std::size_t leftoversRemoved_ = 0;
};

}  // namespace pgbr::fs
