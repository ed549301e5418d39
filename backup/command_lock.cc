#include "backup/command_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

CommandLock CommandLock::acquireBackup(const std::filesystem::path& lockPath, std::string_view stanza,
                                       std::optional<Owner> owner) {
  const std::filesystem::path path = lockPath / (std::string(stanza) + "-backup.lock");
  const auto fail = [&](ErrorCode code, const std::string& what, const std::string& hint) {
    const int error = errno;
    throw CommandError(code, what + " '" + path.string() + "': [" + std::to_string(error) + "] " + std::strerror(error),
                       hint);
  };
  // pgBackRest makes the directory 0770 so that its users in the group share it.
  if (::mkdir(lockPath.c_str(), 0770) == 0) {
    if (owner && ::chown(lockPath.c_str(), owner->uid, owner->gid) != 0)
      fail(ErrorCode::FileOpen, "unable to set the owner of the lock path for", "is lock-path on a local file system?");
  } else if (errno != EEXIST) {
    fail(ErrorCode::FileOpen, "unable to create lock path for", "is lock-path writable by this user?");
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) fail(ErrorCode::FileOpen, "unable to open lock file", "is lock-path writable by this user?");
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      fail(ErrorCode::LockAcquire, "unable to acquire lock on file",
           "is another pgbr or pgBackRest process (backup, expire, stanza-create) running on this stanza?");
    fail(ErrorCode::LockAcquire, "unable to lock file", "is lock-path on a local file system?");
  }
  // The holder's pid, for the DBA who finds the file (informational only).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) (void)!::pwrite(fd.get(), pid.data(), pid.size(), 0);
  return CommandLock(std::move(fd), path);
}

}  // namespace pgbr::backup
