#include "backup/posix_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "backup/storage_error.h"
#include "backup/unique_fd.h"

namespace pgbr::backup {

std::string repoPathParent(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string repoPathName(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void validateRepoPath(const std::string& path) {
  if (path.empty() || path.front() == '/')
    throw std::invalid_argument("repository path '" + path + "' must be relative and not empty");
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      throw std::invalid_argument("repository path '" + path + "' has an empty, '.' or '..' component");
    start = end + 1;
  }
}

PosixStorage::PosixStorage(const std::string& root) : root_(root) {
  rootFd_ = ::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (rootFd_ < 0) throw StorageError::fromErrno("unable to open repository directory '" + root + "'", errno);
}

PosixStorage::~PosixStorage() {
  if (rootFd_ >= 0) ::close(rootFd_);
}

int PosixStorage::openBeneath(const std::string& path, int flags, mode_t mode) const {
  open_how how{};
  how.flags = static_cast<unsigned int>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const char* name = path.empty() ? "." : path.c_str();
  for (;;) {
    const long fd = ::syscall(SYS_openat2, rootFd_, name, &how, sizeof(how));
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

std::optional<Bytes> PosixStorage::get(const std::string& path) {
  validateRepoPath(path);
  UniqueFd fd(openBeneath(path, O_RDONLY | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw StorageError::fromErrno("unable to open '" + path + "' for read", errno);
  }
  Bytes data;
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) data.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw StorageError::fromErrno("unable to read '" + path + "'", errno);
    if (n == 0) break;
    data.insert(data.end(), buffer, buffer + n);
  }
  return data;
}

std::optional<StorageInfo> PosixStorage::info(const std::string& path) {
  if (!path.empty()) validateRepoPath(path);
  // Open the parent beneath the root, then lstat the last component relative to it.
  const std::string parent = repoPathParent(path);
  UniqueFd dir(openBeneath(parent, O_PATH | O_DIRECTORY));
  if (dir.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw StorageError::fromErrno("unable to open directory of '" + path + "'", errno);
  }
  struct stat st {};
  const std::string base = path.empty() ? "." : repoPathName(path);
  if (::fstatat(dir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw StorageError::fromErrno("unable to get info for '" + path + "'", errno);
  }
  StorageInfo info;
  info.type = S_ISREG(st.st_mode)   ? StorageInfo::Type::File
              : S_ISDIR(st.st_mode) ? StorageInfo::Type::Path
              : S_ISLNK(st.st_mode) ? StorageInfo::Type::Link
                                    : StorageInfo::Type::Special;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtimeNs = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.inode = st.st_ino;
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  if (info.type == StorageInfo::Type::Link) {
    char target[4096];
    const ssize_t n = ::readlinkat(dir.get(), base.c_str(), target, sizeof(target));
    if (n > 0) info.linkDestination.assign(target, static_cast<std::size_t>(n));
  }
  return info;
}

std::optional<std::vector<std::string>> PosixStorage::list(const std::string& path) {
  if (!path.empty()) validateRepoPath(path);
  const int fd = openBeneath(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw StorageError::fromErrno("unable to list '" + path + "'", errno);
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    ::close(fd);
    throw StorageError::fromErrno("unable to list '" + path + "'", error);
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void PosixStorage::makeParents(const std::string& path) {
  std::string partial;
  const std::string parent = repoPathParent(path);
  if (parent.empty()) return;
  std::size_t start = 0;
  while (start <= parent.size()) {
    const std::size_t end = std::min(parent.find('/', start), parent.size());
    partial = parent.substr(0, end);
    UniqueFd dir(openBeneath(repoPathParent(partial), O_PATH | O_DIRECTORY));
    if (dir.get() < 0) throw StorageError::fromErrno("unable to open directory of '" + partial + "'", errno);
    if (::mkdirat(dir.get(), repoPathName(partial).c_str(), 0750) != 0 && errno != EEXIST)
      throw StorageError::fromErrno("unable to create directory '" + partial + "'", errno);
    start = end + 1;
  }
}

void PosixStorage::put(const std::string& path, ByteView data, const StorageWriteOptions& options) {
  validateRepoPath(path);
  if (options.createParents) makeParents(path);
  const std::string parent = repoPathParent(path), base = repoPathName(path), temp = base + kTempSuffix;
  UniqueFd dir(openBeneath(parent, O_RDONLY | O_DIRECTORY));
  if (dir.get() < 0) throw StorageError::fromErrno("unable to open directory of '" + path + "'", errno);
  UniqueFd file(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, options.mode));
  if (file.get() < 0) throw StorageError::fromErrno("unable to open '" + path + kTempSuffix + "' for write", errno);
  auto fail = [&](const std::string& what, int error) {
    ::unlinkat(dir.get(), temp.c_str(), 0);
    throw StorageError::fromErrno(what, error);
  };
  ByteView rest = data;
  while (!rest.empty()) {
    const ssize_t n = ::write(file.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("unable to write '" + path + kTempSuffix + "'", errno);
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  if (options.sync && ::fsync(file.get()) != 0) fail("unable to sync '" + path + kTempSuffix + "'", errno);
  if (file.close() != 0) fail("unable to close '" + path + kTempSuffix + "'", errno);
  if (::renameat(dir.get(), temp.c_str(), dir.get(), base.c_str()) != 0)
    fail("unable to move '" + path + kTempSuffix + "' to '" + path + "'", errno);
  if (options.sync && ::fsync(dir.get()) != 0)
    throw StorageError::fromErrno("unable to sync directory of '" + path + "'", errno);
}

void PosixStorage::rename(const std::string& from, const std::string& to) {
  validateRepoPath(from);
  validateRepoPath(to);
  UniqueFd fromDir(openBeneath(repoPathParent(from), O_PATH | O_DIRECTORY));
  if (fromDir.get() < 0) throw StorageError::fromErrno("unable to open directory of '" + from + "'", errno);
  UniqueFd toDir(openBeneath(repoPathParent(to), O_PATH | O_DIRECTORY));
  if (toDir.get() < 0) throw StorageError::fromErrno("unable to open directory of '" + to + "'", errno);
  if (::renameat(fromDir.get(), repoPathName(from).c_str(), toDir.get(), repoPathName(to).c_str()) != 0)
    throw StorageError::fromErrno("unable to move '" + from + "' to '" + to + "'", errno);
}

bool PosixStorage::remove(const std::string& path) {
  validateRepoPath(path);
  UniqueFd dir(openBeneath(repoPathParent(path), O_PATH | O_DIRECTORY));
  if (dir.get() < 0) {
    if (errno == ENOENT) return false;
    throw StorageError::fromErrno("unable to open directory of '" + path + "'", errno);
  }
  if (::unlinkat(dir.get(), repoPathName(path).c_str(), 0) != 0) {
    if (errno == ENOENT) return false;
    throw StorageError::fromErrno("unable to remove '" + path + "'", errno);
  }
  return true;
}

namespace {

// Empties the directory open as `dirFd` (consumed) depth first; `path` names it in messages.
void removeTreeContent(int dirFd, const std::string& path) {
  DIR* dir = ::fdopendir(dirFd);
  if (dir == nullptr) {
    const int error = errno;
    ::close(dirFd);
    throw StorageError::fromErrno("unable to list '" + path + "'", error);
  }
  std::vector<std::pair<std::string, bool>> entries;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") entries.emplace_back(std::string(name), entry->d_type == DT_DIR);
  }
  const int fd = ::dirfd(dir);
  for (const auto& [name, isDirectory] : entries) {
    bool directory = isDirectory;
    struct stat status {};
    if (!directory && ::fstatat(fd, name.c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0) directory = S_ISDIR(status.st_mode);
    if (directory) {
      const int child = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        const int error = errno;
        ::closedir(dir);
        throw StorageError::fromErrno("unable to open directory '" + path + "/" + name + "'", error);
      }
      try {
        removeTreeContent(child, path + "/" + name);
      } catch (...) {
        ::closedir(dir);
        throw;
      }
    }
    if (::unlinkat(fd, name.c_str(), directory ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      const int error = errno;
      ::closedir(dir);
      throw StorageError::fromErrno("unable to remove '" + path + "/" + name + "'", error);
    }
  }
  ::closedir(dir);
}

}  // namespace

bool PosixStorage::removePath(const std::string& path) {
  validateRepoPath(path);
  const int fd = openBeneath(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    throw StorageError::fromErrno("unable to open directory '" + path + "'", errno);
  }
  removeTreeContent(fd, path);
  UniqueFd parent(openBeneath(repoPathParent(path), O_PATH | O_DIRECTORY));
  if (parent.get() < 0) throw StorageError::fromErrno("unable to open directory of '" + path + "'", errno);
  if (::unlinkat(parent.get(), repoPathName(path).c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw StorageError::fromErrno("unable to remove '" + path + "'", errno);
  return true;
}

}  // namespace pgbr::backup
