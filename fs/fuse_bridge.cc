#include "fs/fuse_bridge.h"

#include <cerrno>
#include <cstring>
#include <new>

#include "backup/key_resolver.h"
#include "crypto/crypto_error.h"
#include "fs/fs_error.h"
#include "fs/log.h"

namespace pgbr::fs {

namespace {

PgbrFs& filesystem() { return *static_cast<PgbrFs*>(fuse_get_context()->private_data); }

Caller caller() {
  const fuse_context* context = fuse_get_context();
  return {context->uid, context->gid};
}

// FUSE paths start with '/'; ours are relative ("" is the root). A null path (an unlinked open file) is "".
std::string repoPath(const char* path) {
  if (path == nullptr) return {};
  while (*path == '/') path++;
  return path;
}

FileHandle* handleOf(const fuse_file_info* fi) {
  return fi == nullptr ? nullptr : reinterpret_cast<FileHandle*>(fi->fh);
}

// The one catch point: every exception becomes an errno; data problems are logged once per path and operation.
template <typename Work>
int guarded(const char* operation, const char* path, Work&& work) noexcept {
  try {
    return work();
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::exception& e) {
    const int error = errnoFor(e);
    if (worthLogging(error)) {
      std::string message = std::string(operation) + " '" + repoPath(path) + "': " + e.what();
      if (const auto* c = dynamic_cast<const crypto::CryptoError*>(&e); c && !c->hint().empty())
        message += " (HINT: " + c->hint() + ")";
      if (const auto* k = dynamic_cast<const backup::KeyUnavailableError*>(&e); k && !k->hint().empty())
        message += " (HINT: " + k->hint() + ")";
      logOncePerPath(LogLevel::Error, repoPath(path), operation, message);
    } else {
      log(LogLevel::Debug, std::string(operation) + " '" + repoPath(path) + "': " + e.what());
    }
    return -error;
  } catch (...) {
    log(LogLevel::Error, std::string(operation) + " '" + repoPath(path) + "': unknown error");
    return -EIO;
  }
}

void* opInit(fuse_conn_info* conn, fuse_config* cfg) {
  PgbrFs* fs = static_cast<PgbrFs*>(fuse_get_context()->private_data);
  cfg->use_ino = 1;
  cfg->hard_remove = 1;   // we keep open-unlinked files working ourselves (no .fuse_hidden renames)
  cfg->nullpath_ok = 1;
  // Attributes and names may be cached briefly; the page cache is kept across opens unless size or mtime changed,
  // so re-reads run at memory speed and changes made behind the mount show within a second.
  cfg->entry_timeout = 1.0;
  cfg->attr_timeout = 1.0;
  cfg->negative_timeout = 0.0;
  cfg->auto_cache = 1;
  if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE) != 0 && fs->writebackCache()) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  // O_TRUNC arrives with open() instead of as a separate truncate: a truncate by name publishes at once, which
  // would empty the file under its final name before the new content is complete.
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  return fs;
}

int opGetattr(const char* path, struct stat* st, fuse_file_info* fi) {
  return guarded("getattr", path, [&] {
    *st = filesystem().getattr(repoPath(path), handleOf(fi));
    return 0;
  });
}

int opReadlink(const char* path, char* buffer, size_t size) {
  return guarded("readlink", path, [&] {
    const std::string target = filesystem().readlink(repoPath(path));
    if (size == 0) return -EINVAL;
    const std::size_t n = std::min(size - 1, target.size());
    std::memcpy(buffer, target.data(), n);
    buffer[n] = '\0';
    return 0;
  });
}

int opMkdir(const char* path, mode_t mode) {
  return guarded("mkdir", path, [&] {
    filesystem().mkdir(repoPath(path), mode, caller());
    return 0;
  });
}

int opUnlink(const char* path) {
  return guarded("unlink", path, [&] {
    filesystem().unlink(repoPath(path));
    return 0;
  });
}

int opRmdir(const char* path) {
  return guarded("rmdir", path, [&] {
    filesystem().rmdir(repoPath(path));
    return 0;
  });
}

int opSymlink(const char* target, const char* path) {
  return guarded("symlink", path, [&] {
    filesystem().symlink(target, repoPath(path), caller());
    return 0;
  });
}

int opRename(const char* from, const char* to, unsigned int flags) {
  return guarded("rename", from, [&] {
    filesystem().rename(repoPath(from), repoPath(to), flags);
    return 0;
  });
}

int opLink(const char* from, const char* to) {
  return guarded("link", from, [&] {
    filesystem().link(repoPath(from), repoPath(to));
    return 0;
  });
}

int opChmod(const char* path, mode_t mode, fuse_file_info* fi) {
  return guarded("chmod", path, [&] {
    filesystem().chmod(repoPath(path), mode, handleOf(fi));
    return 0;
  });
}

int opChown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  return guarded("chown", path, [&] {
    filesystem().chown(repoPath(path), uid, gid, handleOf(fi));
    return 0;
  });
}

int opTruncate(const char* path, off_t size, fuse_file_info* fi) {
  return guarded("truncate", path, [&] {
    if (size < 0) return -EINVAL;
    filesystem().truncate(repoPath(path), static_cast<std::uint64_t>(size), handleOf(fi));
    return 0;
  });
}

int opUtimens(const char* path, const struct timespec tv[2], fuse_file_info* fi) {
  return guarded("utimens", path, [&] {
    filesystem().utimens(repoPath(path), tv, handleOf(fi));
    return 0;
  });
}

// O_DIRECT cannot be honoured through a cipher (a 16-byte header misaligns every block): such opens are served
// through the page-cache path instead of failing, so tools like pg_test_fsync work.
void servePageCached(fuse_file_info* fi) { fi->direct_io = 0; }

int opOpen(const char* path, fuse_file_info* fi) {
  return guarded("open", path, [&] {
    std::unique_ptr<FileHandle> handle = filesystem().open(repoPath(path), fi->flags & ~O_DIRECT);
    servePageCached(fi);
    fi->fh = reinterpret_cast<std::uint64_t>(handle.release());
    return 0;
  });
}

int opCreate(const char* path, mode_t mode, fuse_file_info* fi) {
  return guarded("create", path, [&] {
    std::unique_ptr<FileHandle> handle = filesystem().create(repoPath(path), mode, fi->flags & ~O_DIRECT, caller());
    servePageCached(fi);
    fi->fh = reinterpret_cast<std::uint64_t>(handle.release());
    return 0;
  });
}

int opRead(const char* path, char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  return guarded("read", path, [&] {
    const std::size_t n = filesystem().read(*handleOf(fi), static_cast<std::uint64_t>(offset),
                                            MutableByteView(reinterpret_cast<std::uint8_t*>(buffer), size));
    return static_cast<int>(n);
  });
}

int opWrite(const char* path, const char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  return guarded("write", path, [&] {
    filesystem().write(*handleOf(fi), static_cast<std::uint64_t>(offset),
                       ByteView(reinterpret_cast<const std::uint8_t*>(buffer), size));
    return static_cast<int>(size);
  });
}

int opStatfs(const char* path, struct statvfs* st) {
  return guarded("statfs", path, [&] {
    *st = filesystem().statfs();
    return 0;
  });
}

int opFlush(const char* path, fuse_file_info* fi) {
  return guarded("close", path, [&] {
    filesystem().flush(*handleOf(fi));
    return 0;
  });
}

int opRelease(const char* path, fuse_file_info* fi) {
  return guarded("release", path, [&] {
    filesystem().release(std::unique_ptr<FileHandle>(handleOf(fi)));
    return 0;
  });
}

int opFsync(const char* path, int, fuse_file_info* fi) {
  return guarded("fsync", path, [&] {
    filesystem().fsync(*handleOf(fi));
    return 0;
  });
}

int opFsyncdir(const char* path, int, fuse_file_info* fi) {
  const std::string& dir = *reinterpret_cast<const std::string*>(fi->fh);
  return guarded("fsyncdir", dir.c_str(), [&] {
    (void)path;
    filesystem().fsyncdir(dir);
    return 0;
  });
}

// With nullpath_ok libfuse may hand readdir a null path: the directory's path travels in fi->fh from opendir.
int opOpendir(const char* path, fuse_file_info* fi) {
  return guarded("opendir", path, [&] {
    fi->fh = reinterpret_cast<std::uint64_t>(new std::string(repoPath(path)));
    return 0;
  });
}

int opReleasedir(const char*, fuse_file_info* fi) {
  delete reinterpret_cast<std::string*>(fi->fh);
  return 0;
}

int opReaddir(const char* path, void* buffer, fuse_fill_dir_t fill, off_t, fuse_file_info* fi, fuse_readdir_flags) {
  const std::string& dir = *reinterpret_cast<const std::string*>(fi->fh);
  return guarded("readdir", dir.c_str(), [&] {
    (void)path;
    fill(buffer, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    fill(buffer, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    for (const DirEntry& entry : filesystem().readdir(dir)) {
      struct stat st {};
      st.st_mode = entry.type;
      st.st_ino = entry.inode;
      if (fill(buffer, entry.name.c_str(), &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
    }
    return 0;
  });
}

int opGetxattr(const char* path, const char* name, char* value, size_t size) {
  return guarded("getxattr", path, [&] {
    const std::optional<std::string> found = filesystem().getxattr(repoPath(path), name);
    if (!found) return -ENODATA;
    if (size == 0) return static_cast<int>(found->size());
    if (size < found->size()) return -ERANGE;
    std::memcpy(value, found->data(), found->size());
    return static_cast<int>(found->size());
  });
}

int opListxattr(const char* path, char* list, size_t size) {
  return guarded("listxattr", path, [&] {
    std::string names;
    for (const std::string& name : filesystem().listxattr(repoPath(path))) names += name + '\0';
    if (size == 0) return static_cast<int>(names.size());
    if (size < names.size()) return -ERANGE;
    std::memcpy(list, names.data(), names.size());
    return static_cast<int>(names.size());
  });
}

int opSetxattr(const char*, const char*, const char*, size_t, int) { return -ENOTSUP; }
int opRemovexattr(const char*, const char*) { return -ENOTSUP; }

fuse_operations makeOperations() {
  fuse_operations ops{};
  ops.init = opInit;
  ops.getattr = opGetattr;
  ops.readlink = opReadlink;
  ops.mkdir = opMkdir;
  ops.unlink = opUnlink;
  ops.rmdir = opRmdir;
  ops.symlink = opSymlink;
  ops.rename = opRename;
  ops.link = opLink;
  ops.chmod = opChmod;
  ops.chown = opChown;
  ops.truncate = opTruncate;
  ops.utimens = opUtimens;
  ops.open = opOpen;
  ops.create = opCreate;
  ops.read = opRead;
  ops.write = opWrite;
  ops.statfs = opStatfs;
  ops.flush = opFlush;
  ops.release = opRelease;
  ops.fsync = opFsync;
  ops.fsyncdir = opFsyncdir;
  ops.opendir = opOpendir;
  ops.releasedir = opReleasedir;
  ops.readdir = opReaddir;
  ops.getxattr = opGetxattr;
  ops.listxattr = opListxattr;
  ops.setxattr = opSetxattr;
  ops.removexattr = opRemovexattr;
  return ops;
}

}  // namespace

const fuse_operations& fuseOperations() {
  static const fuse_operations ops = makeOperations();
  return ops;
}

}  // namespace pgbr::fs
