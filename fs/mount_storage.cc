#include "fs/mount_storage.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "backup/storage_error.h"
#include "fs/fs_error.h"

namespace pgbr::fs {

namespace {

// Storage reports failures as StorageError (with the errno the daemon passes on).
[[noreturn]] void rethrowAsStorageError(const FsError& e) { throw backup::StorageError(e.what(), e.errorNumber()); }

bool absent(const FsError& e) { return e.errorNumber() == ENOENT || e.errorNumber() == ENOTDIR; }

// A file open through the mount, released when it goes out of scope, also when an operation on it threw.
class OpenFile {
 public:
  OpenFile(PgbrFs& fs, std::unique_ptr<FileHandle> handle) : fs_(fs), handle_(std::move(handle)) {}
  ~OpenFile() {
    try {
      fs_.release(std::move(handle_));
    } catch (...) {  // release logs what it cannot publish; nothing else is left to report from a destructor
    }
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  FileHandle& operator*() { return *handle_; }
  FileHandle* get() { return handle_.get(); }

 private:
  PgbrFs& fs_;
  std::unique_ptr<FileHandle> handle_;
};

}  // namespace

std::optional<Bytes> MountStorage::get(const std::string& path) {
  backup::validateRepoPath(path);
  std::unique_ptr<FileHandle> handle;
  try {
    handle = fs_.open(path, O_RDONLY, caller_);
  } catch (const FsError& e) {
    if (absent(e)) return std::nullopt;
    rethrowAsStorageError(e);
  }
  OpenFile file(fs_, std::move(handle));
  Bytes out;
  try {
    out.resize(static_cast<std::size_t>(fs_.getattr(path, file.get()).st_size));
    std::size_t done = 0;
    for (;;) {
      if (done == out.size()) out.resize(out.size() + 65536);  // grown since the stat: read to the real end
      const std::size_t n = fs_.read(*file, done, MutableByteView(out).subspan(done));
      if (n == 0) break;
      done += n;
    }
    out.resize(done);
  } catch (const FsError& e) {
    rethrowAsStorageError(e);
  }
  return out;
}

std::optional<backup::StorageInfo> MountStorage::info(const std::string& path) {
  if (!path.empty()) backup::validateRepoPath(path);
  struct stat st {};
  try {
    st = fs_.getattr(path, nullptr);
  } catch (const FsError& e) {
    if (absent(e)) return std::nullopt;
    rethrowAsStorageError(e);
  }
  backup::StorageInfo info;
  info.type = S_ISREG(st.st_mode)   ? backup::StorageInfo::Type::File
              : S_ISDIR(st.st_mode) ? backup::StorageInfo::Type::Path
              : S_ISLNK(st.st_mode) ? backup::StorageInfo::Type::Link
                                    : backup::StorageInfo::Type::Special;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtimeNs = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.inode = st.st_ino;
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  if (info.type == backup::StorageInfo::Type::Link) info.linkDestination = fs_.readlink(path);
  return info;
}

std::optional<std::vector<std::string>> MountStorage::list(const std::string& path) {
  if (!path.empty()) backup::validateRepoPath(path);
  std::vector<DirEntry> entries;
  try {
    entries = fs_.readdir(path);
  } catch (const FsError& e) {
    if (e.errorNumber() == ENOENT) return std::nullopt;
    rethrowAsStorageError(e);
  }
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (DirEntry& entry : entries)
    if (entry.name != "." && entry.name != "..") names.push_back(std::move(entry.name));
  std::sort(names.begin(), names.end());
  return names;
}

void MountStorage::makeParents(const std::string& dir) {
  if (dir.empty()) return;
  try {
    if (S_ISDIR(fs_.getattr(dir, nullptr).st_mode)) return;
    throw backup::StorageError("'" + dir + "' is not a directory", ENOTDIR);
  } catch (const FsError& e) {
    if (e.errorNumber() != ENOENT) rethrowAsStorageError(e);
  }
  makeParents(backup::repoPathParent(dir));
  try {
    fs_.mkdir(dir, 0750, caller_);
    fs_.fsyncdir(backup::repoPathParent(dir));  // the new directory's name is durable before a file in it is
  } catch (const FsError& e) {
    if (e.errorNumber() != EEXIST) rethrowAsStorageError(e);  // another writer made it meanwhile
  }
}

void MountStorage::put(const std::string& path, ByteView data, const backup::StorageWriteOptions& options) {
  backup::validateRepoPath(path);
  if (options.createParents) makeParents(backup::repoPathParent(path));
  std::unique_ptr<FileHandle> handle;
  try {
    handle = fs_.create(path, options.mode, O_WRONLY | O_CREAT | O_TRUNC, caller_);
  } catch (const FsError& e) {
    rethrowAsStorageError(e);
  }
  OpenFile file(fs_, std::move(handle));
  try {
    constexpr std::size_t kChunk = 1u << 20;
    for (std::size_t offset = 0; offset < data.size(); offset += kChunk)
      fs_.write(*file, offset, data.subspan(offset, std::min(kChunk, data.size() - offset)));
    fs_.flush(*file);  // publishes: fsync of the file, rename, fsync of the directory
  } catch (const FsError& e) {
    rethrowAsStorageError(e);
  }
}

bool MountStorage::remove(const std::string& path) {
  backup::validateRepoPath(path);
  try {
    fs_.unlink(path);
    return true;
  } catch (const FsError& e) {
    if (absent(e)) return false;
    rethrowAsStorageError(e);
  }
}

}  // namespace pgbr::fs
