// The lock pgBackRest takes for commands that change a stanza's backups (backup, expire, stanza-create):
// an exclusive flock(2) on <lock-path>/<stanza>-backup.lock, held for the life of the command. pgbr and pgBackRest
// on the same host use the same file, so neither runs a backup or expire while the other does.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "backup/unique_fd.h"

namespace pgbr::backup {

class CommandLock {
 public:
  // Takes the lock or throws CommandError(LockAcquire) naming the file when another process holds it, and
  // CommandError(FileOpen) when the lock directory or file cannot be made. A lock directory this call creates is
  // given to `owner` when set (root making it must not lock out the repository's user, who runs the next command).
  struct Owner {
    uid_t uid;
    gid_t gid;
  };
  static CommandLock acquireBackup(const std::filesystem::path& lockPath, std::string_view stanza,
                                   std::optional<Owner> owner = std::nullopt);

  CommandLock(CommandLock&&) = default;
  CommandLock& operator=(CommandLock&&) = default;
  const std::filesystem::path& path() const { return path_; }

 private:
  CommandLock(UniqueFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  UniqueFd fd_;  // closing it releases the lock; the file stays (removing it would race with the next taker)
  std::filesystem::path path_;
};

}  // namespace pgbr::backup
