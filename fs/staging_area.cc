#include "fs/staging_area.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "fs/fs_error.h"
#include "fs/log.h"

namespace pgbr::fs {

namespace {

constexpr const char* kLegacyStagePrefix = ".pgbrfs-stage.";

std::vector<std::string> namesIn(int dirFd) {
  std::vector<std::string> names;
  const int fd = ::openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return names;
  }
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

}  // namespace

bool isStagingName(std::string_view name) {
  return name.starts_with(kLegacyStagePrefix) || name == kStagingDirName;
}

bool isHiddenPath(const std::string& path) {
  if (path == kStagingDirName || path.starts_with(std::string(kStagingDirName) + "/")) return true;
  const std::size_t slash = path.rfind('/');
  return std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1).starts_with(kLegacyStagePrefix);
}

StagingArea::StagingArea(backup::PosixStorage& storage) {
  if (::mkdirat(storage.rootFd(), kStagingDirName, 0700) != 0 && errno != EEXIST) {
    unavailableErrno_ = errno;
    return;
  }
  dir_.reset(storage.openBeneath(kStagingDirName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (!dir_) {
    unavailableErrno_ = errno;
    return;
  }
  if (::flock(dir_.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    dir_.reset();
    if (error == EWOULDBLOCK)
      throw FsError(EBUSY, "backing directory '" + storage.root() + "' is already served by another pgbrfs");
    throw FsError::fromErrno(error, "unable to lock '" + storage.root() + "/" + kStagingDirName + "'");
  }
  // Staging files hold ciphertext only, but their names, sizes and owners are nobody else's business: a directory
  // left with a wider mode (made by hand or by an older version) is narrowed.
  if (::fchmod(dir_.get(), 0700) != 0)
    log(LogLevel::Warn, "unable to set mode 0700 on '" + std::string(kStagingDirName) + "': " + std::strerror(errno));
  // Nobody else can be using these: the daemon that made them is gone (it held the lock).
  for (const std::string& name : namesIn(dir_.get())) {
    if (::unlinkat(dir_.get(), name.c_str(), 0) == 0) {
      leftoversRemoved_++;
    } else {
      log(LogLevel::Warn, "unable to remove leftover staging file '" + std::string(kStagingDirName) + "/" + name +
                              "': " + std::strerror(errno));
    }
  }
}

StagingArea::File StagingArea::create() {
  if (!dir_)
    throw FsError(unavailableErrno_ == 0 ? EROFS : unavailableErrno_,
                  std::string("the staging directory '") + kStagingDirName + "' is unavailable; the mount is read-only");
  const std::string name = std::to_string(++sequence_);
  UniqueFd fd(::openat(dir_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw FsError::fromErrno(errno, "unable to create a staging file");
  return {std::move(fd), name};
}

void StagingArea::remove(const std::string& name) noexcept {
  if (dir_ && ::unlinkat(dir_.get(), name.c_str(), 0) != 0 && errno != ENOENT)
    log(LogLevel::Warn, "unable to remove staging file '" + std::string(kStagingDirName) + "/" + name + "': " +
                            std::strerror(errno));
}

}  // namespace pgbr::fs
