#include "fs/pgbrfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include "crypto/key_derivation.h"
#include "fs/fs_error.h"
#include "fs/log.h"

namespace pgbr::fs {

namespace {

constexpr const char* kCipherTypeXattr = "user.pgbrfs.cipher-type";

// The directory holding `path`, opened beneath the root, and the last component: every change to the backing
// tree is made relative to such a descriptor, so nothing outside the repository can be touched.
struct Parent {
  UniqueFd fd;
  std::string name;
};

Parent openParent(backup::PosixStorage& storage, const std::string& path) {
  UniqueFd fd(storage.openBeneath(backup::repoPathParent(path), O_PATH | O_DIRECTORY));
  if (!fd) throw FsError::fromErrno(errno, "unable to open the directory of '" + path + "'");
  return {std::move(fd), backup::repoPathName(path)};
}

void check(int rc, const std::string& what) {
  if (rc != 0) throw FsError::fromErrno(errno, what);
}

bool samePass(const crypto::CipherSpec& a, const crypto::CipherSpec& b) {
  if (a.encrypted() != b.encrypted()) return false;
  return !a.encrypted() || a.pass() == b.pass();
}

}  // namespace

PgbrFs::PgbrFs(FsOptions options)
    : options_(std::move(options)),
      storage_(options_.backingDir),
      resolver_(storage_, options_.spec),
      area_(storage_),
      staging_{storage_, area_, options_.spec.encrypted()} {
  if (area_.leftoversRemoved() > 0)
    log(LogLevel::Warn, "removed " + std::to_string(area_.leftoversRemoved()) +
                            " staging file(s) left by a daemon that did not stop cleanly; their writes were never "
                            "published and the files they were replacing are intact");
}

void PgbrFs::addView(std::unique_ptr<View> view) { views_.push_back(std::move(view)); }

View* PgbrFs::viewFor(const std::string& path) const {
  for (const std::unique_ptr<View>& view : views_)
    if (view->serves(path)) return view.get();
  return nullptr;
}

void PgbrFs::refuseViewPath(const std::string& path) const {
  if (const View* view = viewFor(path))
    throw FsError(view->refusal(), "'" + path + "' is part of a pgbrfs view, which does not support this");
}

void PgbrFs::refuseStagingName(const std::string& path) {
  if (isStagingName(backup::repoPathName(path)))
    throw FsError(EPERM, "'" + path + "' uses a name reserved for pgbrfs staging files");
}

std::shared_ptr<StagedFile> PgbrFs::findWriter(const std::string& path) {
  std::lock_guard lock(writersMutex_);
  const auto it = writers_.find(path);
  if (it == writers_.end()) return nullptr;
  std::shared_ptr<StagedFile> file = it->second.lock();
  if (!file) writers_.erase(it);
  return file;
}

std::shared_ptr<StagedFile> PgbrFs::writerFor(const std::string& path, bool truncate) {
  std::lock_guard lock(writersMutex_);
  if (const auto it = writers_.find(path); it != writers_.end()) {
    if (std::shared_ptr<StagedFile> file = it->second.lock()) {
      if (truncate) file->truncate(0);
      return file;
    }
  }
  std::shared_ptr<StagedFile> file = StagedFile::openExisting(staging_, path, resolver_.keyFor(path), truncate);
  writers_[path] = file;
  return file;
}

std::shared_ptr<StagedFile> PgbrFs::openFileFor(const std::string& path, FileHandle* handle) {
  if (handle != nullptr && handle->staged) return handle->staged;
  return findWriter(path);
}

// Something under `path` changed through the mount: forget derived state.
void PgbrFs::changed(const std::string& path) {
  sizes_.forget(path);
  resolver_.invalidate(path);
}

std::uint64_t PgbrFs::plainSize(const std::string& path, const struct stat& st) {
  if (!options_.spec.encrypted()) return static_cast<std::uint64_t>(st.st_size);
  if (const std::optional<std::uint64_t> cached = sizes_.find(path, st)) return *cached;
  try {
    UniqueFd fd(storage_.openBeneath(path, O_RDONLY | O_NOFOLLOW));
    if (!fd) throw FsError::fromErrno(errno, "unable to open '" + path + "'");
    const std::uint64_t size =
        BackingReader::plainSizeOf(fd.get(), static_cast<std::uint64_t>(st.st_size), resolver_.keyFor(path), path);
    sizes_.store(path, st, size);
    return size;
  } catch (const std::exception& e) {
    // The file stays listable (and removable); reading it reports the error.
    logOncePerPath(LogLevel::Error, path, "size", "unable to determine the size of '" + path + "': " + e.what());
    return 0;
  }
}

struct stat PgbrFs::getattr(const std::string& path, FileHandle* handle) {
  if (handle != nullptr && handle->view) return handle->view->attributes();
  if (handle != nullptr && handle->staged) return handle->staged->attributes();
  if (View* view = viewFor(path)) return view->getattr(path);
  if (!path.empty() && isStagingName(backup::repoPathName(path))) throw FsError(ENOENT, "hidden staging file");
  if (std::shared_ptr<StagedFile> writer = findWriter(path))
    if (std::optional<struct stat> st = writer->stagedAttributes()) return *st;
  UniqueFd fd(storage_.openBeneath(path, O_PATH | O_NOFOLLOW));
  if (!fd) throw FsError::fromErrno(errno, "unable to stat '" + path + "'");
  struct stat st {};
  check(::fstat(fd.get(), &st), "unable to stat '" + path + "'");
  if (S_ISREG(st.st_mode)) {
    st.st_size = static_cast<off_t>(plainSize(path, st));
    st.st_blocks = (st.st_size + 511) / 512;
  }
  return st;
}

std::string PgbrFs::readlink(const std::string& path) {
  if (View* view = viewFor(path)) return view->readlink(path);
  Parent parent = openParent(storage_, path);
  char target[4096];
  const ssize_t n = ::readlinkat(parent.fd.get(), parent.name.c_str(), target, sizeof(target));
  if (n < 0) throw FsError::fromErrno(errno, "unable to read link '" + path + "'");
  return std::string(target, static_cast<std::size_t>(n));
}

void PgbrFs::mkdir(const std::string& path, mode_t mode, Caller caller) {
  refuseViewPath(path);
  refuseStagingName(path);
  Parent parent = openParent(storage_, path);
  check(::mkdirat(parent.fd.get(), parent.name.c_str(), mode & 07777), "unable to create directory '" + path + "'");
  if (::fchownat(parent.fd.get(), parent.name.c_str(), caller.uid, caller.gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      errno != EPERM)
    throw FsError::fromErrno(errno, "unable to set the owner of '" + path + "'");
}

void PgbrFs::unlink(const std::string& path) {
  refuseViewPath(path);
  refuseStagingName(path);
  std::shared_ptr<StagedFile> writer;
  {
    std::lock_guard lock(writersMutex_);
    if (const auto it = writers_.find(path); it != writers_.end()) {
      writer = it->second.lock();
      writers_.erase(it);
    }
  }
  if (writer) writer->unlinked();  // open handles keep working on the content
  Parent parent = openParent(storage_, path);
  if (::unlinkat(parent.fd.get(), parent.name.c_str(), 0) != 0) {
    // A file created but never published has no backing name yet.
    if (!(errno == ENOENT && writer)) throw FsError::fromErrno(errno, "unable to remove '" + path + "'");
  }
  changed(path);
}

void PgbrFs::refuseIfHoldsNewFiles(const std::string& dir) {
  std::lock_guard lock(writersMutex_);
  const std::string prefix = dir + "/";
  for (auto it = writers_.lower_bound(prefix); it != writers_.end() && it->first.starts_with(prefix); ++it)
    if (!it->second.expired()) throw FsError(ENOTEMPTY, "directory '" + dir + "' is not empty");
}

void PgbrFs::rmdir(const std::string& path) {
  refuseViewPath(path);
  refuseIfHoldsNewFiles(path);
  Parent parent = openParent(storage_, path);
  if (::unlinkat(parent.fd.get(), parent.name.c_str(), AT_REMOVEDIR) == 0) return;
  if (errno != ENOTEMPTY) throw FsError::fromErrno(errno, "unable to remove directory '" + path + "'");
  // Only hidden staging files left by a daemon of an earlier version: garbage, remove them and retry.
  std::optional<std::vector<std::string>> names = storage_.list(path);
  if (!names || !std::all_of(names->begin(), names->end(), [](const std::string& n) { return isStagingName(n); }))
    throw FsError(ENOTEMPTY, "directory '" + path + "' is not empty");
  for (const std::string& name : *names) storage_.remove(path + "/" + name);
  check(::unlinkat(parent.fd.get(), parent.name.c_str(), AT_REMOVEDIR), "unable to remove directory '" + path + "'");
}

void PgbrFs::symlink(const std::string& target, const std::string& path, Caller caller) {
  refuseViewPath(path);
  refuseStagingName(path);
  Parent parent = openParent(storage_, path);
  check(::symlinkat(target.c_str(), parent.fd.get(), parent.name.c_str()), "unable to create link '" + path + "'");
  if (::fchownat(parent.fd.get(), parent.name.c_str(), caller.uid, caller.gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      errno != EPERM)
    throw FsError::fromErrno(errno, "unable to set the owner of '" + path + "'");
}

void PgbrFs::rename(const std::string& from, const std::string& to, unsigned int flags) {
  refuseViewPath(from);
  refuseViewPath(to);
  refuseStagingName(from);
  refuseStagingName(to);
  Parent source = openParent(storage_, from), target = openParent(storage_, to);
  struct stat st {};
  const std::shared_ptr<StagedFile> writer = findWriter(from);
  const bool isFile = writer != nullptr ||
                      (::fstatat(source.fd.get(), source.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode));
  if (isFile && options_.spec.encrypted()) {
    // The content is encrypted with the key of its path: moving it under another key would leave it unreadable.
    bool same = false;
    try {
      same = samePass(resolver_.keyFor(from), resolver_.keyFor(to));
    } catch (const backup::KeyUnavailableError&) {
      same = false;
    }
    if (!same) throw FsError(EXDEV, "'" + from + "' and '" + to + "' are encrypted with different keys");
  }
  if (!isFile && (flags & RENAME_NOREPLACE) == 0 &&
      ::fstatat(target.fd.get(), target.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
    refuseIfHoldsNewFiles(to);
  // A file still being written is published first, so the rename moves real content.
  if (writer) writer->publish();
  // A writer of the target keeps the content it had (its descriptor is taken before the name is replaced).
  std::shared_ptr<StagedFile> replaced = findWriter(to);
  if (replaced && replaced != writer) replaced->unlinked();
  if (::renameat2(source.fd.get(), source.name.c_str(), target.fd.get(), target.name.c_str(), flags) != 0)
    throw FsError::fromErrno(errno, "unable to rename '" + from + "' to '" + to + "'");
  {
    std::lock_guard lock(writersMutex_);
    // The writer of the replaced target (unlinked above) no longer owns the name.
    if (const auto it = writers_.find(to); it != writers_.end()) writers_.erase(it);
    // Writers below a renamed directory, and the renamed file itself, follow the new name.
    std::vector<std::pair<std::string, std::weak_ptr<StagedFile>>> moved;
    const std::string prefix = from + "/";
    for (auto it = writers_.begin(); it != writers_.end();) {
      if (it->first == from || it->first.starts_with(prefix)) {
        moved.emplace_back(to + it->first.substr(from.size()), it->second);
        it = writers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [path, weak] : moved) {
      if (std::shared_ptr<StagedFile> file = weak.lock()) file->moved(path);
      writers_[path] = weak;
    }
  }
  sizes_.forgetTree(from);
  sizes_.forgetTree(to);
  resolver_.invalidate(from);
  resolver_.invalidate(to);
}

void PgbrFs::link(const std::string& from, const std::string& to) {
  refuseViewPath(from);
  refuseViewPath(to);
  refuseStagingName(to);
  if (options_.spec.encrypted() && !samePass(resolver_.keyFor(from), resolver_.keyFor(to)))
    throw FsError(EXDEV, "'" + from + "' and '" + to + "' are encrypted with different keys");
  Parent source = openParent(storage_, from), target = openParent(storage_, to);
  check(::linkat(source.fd.get(), source.name.c_str(), target.fd.get(), target.name.c_str(), 0),
        "unable to link '" + from + "' to '" + to + "'");
}

// Attribute changes to an open file go to what it holds (its staging file, or the descriptor of an unlinked file,
// whose path may be gone or taken); otherwise to the backing path.
void PgbrFs::chmod(const std::string& path, mode_t mode, FileHandle* handle) {
  if (handle != nullptr && handle->view) throw FsError(EPERM, "'" + handle->path + "' is part of a pgbrfs view");
  refuseViewPath(path);
  std::shared_ptr<StagedFile> writer = openFileFor(path, handle);
  if (writer && writer->setMode(mode)) return;
  const std::string target = writer ? writer->path() : path;
  if (target.empty()) {
    check(::fchmod(storage_.rootFd(), mode & 07777), "unable to chmod the mount's root");
    return;
  }
  Parent parent = openParent(storage_, target);
  check(::fchmodat(parent.fd.get(), parent.name.c_str(), mode & 07777, 0), "unable to chmod '" + target + "'");
}

void PgbrFs::chown(const std::string& path, uid_t uid, gid_t gid, FileHandle* handle) {
  if (handle != nullptr && handle->view) throw FsError(EPERM, "'" + handle->path + "' is part of a pgbrfs view");
  refuseViewPath(path);
  std::shared_ptr<StagedFile> writer = openFileFor(path, handle);
  if (writer && writer->setOwner(uid, gid)) return;
  const std::string target = writer ? writer->path() : path;
  if (target.empty()) {
    check(::fchown(storage_.rootFd(), uid, gid), "unable to chown the mount's root");
    return;
  }
  Parent parent = openParent(storage_, target);
  check(::fchownat(parent.fd.get(), parent.name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW),
        "unable to chown '" + target + "'");
}

void PgbrFs::truncate(const std::string& path, std::uint64_t size, FileHandle* handle) {
  if (handle != nullptr && handle->view) {
    handle->view->truncate(size);
    return;
  }
  refuseViewPath(path);
  if (handle != nullptr && handle->staged) {
    handle->staged->truncate(size);
    handle->writtenSinceFlush = true;
    return;
  }
  // truncate(2) by name: stage, change, publish, as a short open/write/close would.
  std::shared_ptr<StagedFile> writer = writerFor(path, false);
  writer->truncate(size);
  writer->publish();
  changed(path);
}

void PgbrFs::utimens(const std::string& path, const struct timespec times[2], FileHandle* handle) {
  // Views have no times of their own to set; the kernel's writeback cache sets mtime on files being written, and
  // `cp -p` into the WAL inbox must not fail for it.
  if ((handle != nullptr && handle->view) || viewFor(path)) return;
  std::shared_ptr<StagedFile> writer = openFileFor(path, handle);
  if (writer && writer->setTimes(times)) return;
  const std::string target = writer ? writer->path() : path;
  if (target.empty()) {
    check(::futimens(storage_.rootFd(), times), "unable to set the times of the mount's root");
    return;
  }
  Parent parent = openParent(storage_, target);
  check(::utimensat(parent.fd.get(), parent.name.c_str(), times, AT_SYMLINK_NOFOLLOW),
        "unable to set the times of '" + target + "'");
  sizes_.forget(target);
}

std::unique_ptr<FileHandle> PgbrFs::open(const std::string& path, int flags, Caller caller) {
  auto handle = std::make_unique<FileHandle>();
  handle->path = path;
  handle->flags = flags;
  if (View* view = viewFor(path)) {
    handle->view = view->open(path, flags, caller);
    return handle;
  }
  if ((flags & O_ACCMODE) != O_RDONLY) {
    handle->staged = writerFor(path, (flags & O_TRUNC) != 0);
    handle->writtenSinceFlush = (flags & O_TRUNC) != 0;  // `: > file` empties the file at close
    return handle;
  }
  // Readers share the file with its writers (they see what was written, and what is published later).
  if (isStagingName(backup::repoPathName(path))) throw FsError(ENOENT, "hidden staging file");
  handle->staged = writerFor(path, false);
  handle->staged->prepareRead();
  return handle;
}

std::unique_ptr<FileHandle> PgbrFs::create(const std::string& path, mode_t mode, int flags, Caller caller) {
  if (View* view = viewFor(path)) {
    auto handle = std::make_unique<FileHandle>();
    handle->path = path;
    handle->flags = flags;
    handle->view = view->create(path, mode, flags, caller);
    return handle;
  }
  refuseStagingName(path);
  {
    // The kernel asks only after a failed lookup, but another process may have created it since.
    UniqueFd existing(storage_.openBeneath(path, O_PATH | O_NOFOLLOW));
    if (existing || findWriter(path)) {
      if ((flags & O_EXCL) != 0) throw FsError(EEXIST, "'" + path + "' exists");
      return open(path, flags | O_TRUNC, caller);
    }
  }
  auto handle = std::make_unique<FileHandle>();
  handle->path = path;
  handle->flags = flags;
  crypto::CipherSpec key = resolver_.keyFor(path);  // refuses a path whose governing file does not exist yet
  handle->staged = StagedFile::createNew(staging_, path, std::move(key), {mode, caller.uid, caller.gid});
  handle->writtenSinceFlush = true;  // a new file is published at close even when nothing was written
  std::lock_guard lock(writersMutex_);
  writers_[path] = handle->staged;
  return handle;
}

std::size_t PgbrFs::read(FileHandle& handle, std::uint64_t offset, MutableByteView out) {
  if (handle.view) return handle.view->read(offset, out);
  return handle.staged->read(offset, out);
}

void PgbrFs::write(FileHandle& handle, std::uint64_t offset, ByteView data) {
  if ((handle.flags & O_ACCMODE) == O_RDONLY) throw FsError(EBADF, "'" + handle.path + "' is not open for writing");
  if (handle.view) {
    handle.view->write(offset, data);
    return;
  }
  // Without the writeback cache the kernel leaves O_APPEND to the file system.
  if ((handle.flags & O_APPEND) != 0 && !options_.writebackCache) offset = handle.staged->size();
  handle.staged->write(offset, data);
  handle.writtenSinceFlush = true;
}

void PgbrFs::flush(FileHandle& handle) {
  if (handle.view) {
    handle.view->flush();
    return;
  }
  if (!handle.writtenSinceFlush) return;
  handle.writtenSinceFlush = false;
  handle.staged->publish();
  changed(handle.staged->path());
}

void PgbrFs::release(std::unique_ptr<FileHandle> handle) {
  if (!handle || !handle->staged) return;  // a view's file does its work at flush()
  // Writes that came after the last flush (through mmap, say) are published now; errors can only be logged here.
  if (handle->writtenSinceFlush) {
    try {
      flush(*handle);
    } catch (const std::exception& e) {
      log(LogLevel::Error, "unable to publish '" + handle->path + "' at release: " + e.what());
    }
  }
  const std::string path = handle->staged->path();
  handle.reset();
  std::lock_guard lock(writersMutex_);
  if (const auto it = writers_.find(path); it != writers_.end() && it->second.expired()) writers_.erase(it);
}

void PgbrFs::fsync(FileHandle& handle) {
  if (handle.view) {
    handle.view->fsync();
    return;
  }
  handle.staged->sync();
}

std::vector<DirEntry> PgbrFs::readdir(const std::string& path) {
  if (View* view = viewFor(path)) return view->readdir(path);
  UniqueFd fd(storage_.openBeneath(path, O_RDONLY | O_DIRECTORY));
  if (!fd) throw FsError::fromErrno(errno, "unable to open directory '" + path + "'");
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) throw FsError::fromErrno(errno, "unable to list '" + path + "'");
  (void)fd.release();
  std::vector<DirEntry> entries;
  std::set<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (isStagingName(name) || name == "." || name == "..") continue;  // the bridge adds . and ..
    mode_t type = 0;
    switch (entry->d_type) {
      case DT_REG: type = S_IFREG; break;
      case DT_DIR: type = S_IFDIR; break;
      case DT_LNK: type = S_IFLNK; break;
      default: type = 0;
    }
    entries.push_back({name, type, entry->d_ino});
    names.insert(name);
  }
  ::closedir(dir);
  for (const std::unique_ptr<View>& view : views_)
    for (DirEntry& entry : view->entriesIn(path))
      if (names.insert(entry.name).second) entries.push_back(std::move(entry));
  // Files created through the mount and still being written are listed too.
  std::lock_guard lock(writersMutex_);
  const std::string prefix = path.empty() ? "" : path + "/";
  for (const auto& [writerPath, weak] : writers_) {
    if (!writerPath.starts_with(prefix) || writerPath.find('/', prefix.size()) != std::string::npos) continue;
    const std::string name = writerPath.substr(prefix.size());
    // A zero inode would make readdir(3) skip the entry.
    if (!weak.expired() && names.insert(name).second)
      entries.push_back({name, S_IFREG, static_cast<ino_t>(std::hash<std::string>{}(writerPath) | 1)});
  }
  return entries;
}

void PgbrFs::fsyncdir(const std::string& path) {
  if (viewFor(path)) return;  // nothing of a view is pending in a directory
  UniqueFd fd(storage_.openBeneath(path, O_RDONLY | O_DIRECTORY));
  if (!fd) throw FsError::fromErrno(errno, "unable to open directory '" + path + "'");
  check(::fsync(fd.get()), "unable to sync directory '" + path + "'");
}

struct statvfs PgbrFs::statfs() {
  struct statvfs st {};
  check(::fstatvfs(storage_.rootFd(), &st), "unable to statfs the backing directory");
  return st;
}

std::optional<std::string> PgbrFs::getxattr(const std::string& path, const std::string& name) {
  if (name != kCipherTypeXattr || viewFor(path)) return std::nullopt;
  if (!path.empty()) {
    UniqueFd fd(storage_.openBeneath(path, O_PATH | O_NOFOLLOW));
    if (!fd && !findWriter(path)) throw FsError::fromErrno(errno, "unable to stat '" + path + "'");
  }
  return std::string(crypto::cipherTypeName(options_.spec.type()));
}

std::vector<std::string> PgbrFs::listxattr(const std::string& path) {
  if (viewFor(path)) return {};
  return {kCipherTypeXattr};
}

}  // namespace pgbr::fs
