#include "fs/fuse_bridge.h"

#include <fcntl.h>
#include <linux/fs.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "backup/key_resolver.h"
#include "crypto/crypto_error.h"
#include "fs/fs_error.h"
#include "fs/log.h"
#include "fs/mount_table.h"
#include "fs/staging_area.h"

namespace pgbr::fs {

namespace {

// Names and attributes may be cached this long. Changes made through the mount are seen at once (the kernel's own
// caches are updated); changes made behind it, in the backing directory, show within this time.
constexpr double kCacheSeconds = 1.0;
// Cold sequential reads run ~50% faster with 1 MiB of readahead instead of the kernel's default 128 KiB. More (4 MiB
// was tried) keeps several reads of one file in flight, in any order: the snapshot view's decoders then restart
// (a read behind their window) and cp -a of a snapshot took 60% more daemon CPU.
constexpr unsigned kReadaheadKb = 1024;

FuseBridge& bridge(fuse_req_t req) { return *static_cast<FuseBridge*>(fuse_req_userdata(req)); }

Caller caller(fuse_req_t req) {
  const fuse_ctx* context = fuse_req_ctx(req);
  return {context->uid, context->gid};
}

std::shared_lock<std::shared_mutex> sharingNames(fuse_req_t req) {
  return std::shared_lock<std::shared_mutex>(bridge(req).names);
}
std::unique_lock<std::shared_mutex> changingNames(fuse_req_t req) {
  return std::unique_lock<std::shared_mutex>(bridge(req).names);
}

FileHandle* handleOf(const fuse_file_info* fi) {
  return fi == nullptr ? nullptr : reinterpret_cast<FileHandle*>(fi->fh);
}

std::string join(const std::string& dir, const char* name) { return dir.empty() ? name : dir + "/" + name; }

// The path of a node for log lines; never throws.
std::string describe(fuse_req_t req, fuse_ino_t ino) {
  try {
    const std::optional<std::string> path = bridge(req).nodes.path(ino);
    return path ? (path->empty() ? "/" : *path) : "(removed file)";
  } catch (...) {
    return "(node " + std::to_string(ino) + ")";
  }
}

// The one catch point: `work` replies on success; every exception becomes an error reply. Data problems are logged
// once per path and operation.
template <typename Work>
void guarded(fuse_req_t req, const char* operation, fuse_ino_t ino, Work&& work) noexcept {
  int error = 0;
  try {
    work();
    return;
  } catch (const std::bad_alloc&) {
    error = ENOMEM;
  } catch (const std::exception& e) {
    error = errnoFor(e);
    const std::string path = describe(req, ino);
    if (worthLogging(error)) {
      std::string message = std::string(operation) + " '" + path + "': " + e.what();
      if (const auto* c = dynamic_cast<const crypto::CryptoError*>(&e); c && !c->hint().empty())
        message += " (HINT: " + c->hint() + ")";
      if (const auto* k = dynamic_cast<const backup::KeyUnavailableError*>(&e); k && !k->hint().empty())
        message += " (HINT: " + k->hint() + ")";
      logOncePerPath(LogLevel::Error, path, operation, message);
    } else {
      log(LogLevel::Debug, std::string(operation) + " '" + path + "': " + e.what());
    }
  } catch (...) {
    log(LogLevel::Error, std::string(operation) + " '" + describe(req, ino) + "': unknown error");
    error = EIO;
  }
  fuse_reply_err(req, error);
}

// What an operation on a node works on: the handle it came with, else its path, else (a node that lost its name;
// the kernel sends no handle with fstat or fchmod) its open file, borrowed for this operation.
struct Target {
  std::string path;
  FileHandle* handle = nullptr;
  FileHandle borrowed;
};

void resolve(fuse_req_t req, fuse_ino_t ino, const fuse_file_info* fi, Target& t) {
  FuseBridge& b = bridge(req);
  t.handle = handleOf(fi);
  if (std::optional<std::string> path = b.nodes.path(ino)) {
    t.path = std::move(*path);
    return;
  }
  if (t.handle != nullptr) return;
  t.borrowed.staged = b.nodes.openFile(ino);
  if (!t.borrowed.staged) throw FsError(ENOENT, "the file was removed");
  t.borrowed.flags = O_RDWR;
  t.handle = &t.borrowed;
}

std::string childPath(fuse_req_t req, fuse_ino_t parent, const char* name) {
  std::string path = join(bridge(req).nodes.namedPath(parent), name);
  if (isHiddenPath(path)) throw FsError(ENOENT, "hidden staging file");
  return path;
}

// After the kernel's INIT (which would otherwise clamp it back), once per mount.
void raiseReadaheadOnce(FuseBridge& b) {
  static std::once_flag once;
  std::call_once(once, [&] { raiseReadahead(b.mountpoint, kReadaheadKb); });
}

void replyEntry(fuse_req_t req, const std::string& path, const struct stat& st) {
  fuse_entry_param entry{};
  entry.ino = bridge(req).nodes.reference(path);
  entry.attr = st;
  entry.attr_timeout = kCacheSeconds;
  entry.entry_timeout = kCacheSeconds;
  if (fuse_reply_entry(req, &entry) != 0) bridge(req).nodes.forget(entry.ino, 1);  // the kernel did not take it
}

void opInit(void* userdata, fuse_conn_info* conn) {
  auto& b = *static_cast<FuseBridge*>(userdata);
  if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE) != 0 && b.fs.writebackCache()) conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  // O_TRUNC arrives with open() instead of as a separate truncate: a truncate by name publishes at once, which
  // would empty the file under its final name before the new content is complete.
  if ((conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) != 0) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  // Changes made behind the mount drop cached pages when a later getattr sees a new size or mtime.
  if ((conn->capable & FUSE_CAP_AUTO_INVAL_DATA) != 0) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

void opLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "lookup", parent, [&] {
    const auto lock = sharingNames(req);
    raiseReadaheadOnce(bridge(req));
    const std::string path = childPath(req, parent, name);
    replyEntry(req, path, bridge(req).fs.getattr(path, nullptr));
  });
}

void opForget(fuse_req_t req, fuse_ino_t ino, uint64_t count) {
  bridge(req).nodes.forget(ino, count);
  fuse_reply_none(req);
}

void opForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; i++) bridge(req).nodes.forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void opGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "getattr", ino, [&] {
    const auto lock = sharingNames(req);
    raiseReadaheadOnce(bridge(req));
    Target t;
    resolve(req, ino, fi, t);
    const struct stat st = bridge(req).fs.getattr(t.path, t.handle);
    fuse_reply_attr(req, &st, kCacheSeconds);
  });
}

void opSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int toSet, fuse_file_info* fi) {
  guarded(req, "setattr", ino, [&] {
    const auto lock = sharingNames(req);
    Target t;
    resolve(req, ino, fi, t);
    PgbrFs& fs = bridge(req).fs;
    if ((toSet & FUSE_SET_ATTR_MODE) != 0) fs.chmod(t.path, attr->st_mode, t.handle);
    if ((toSet & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0)
      fs.chown(t.path, (toSet & FUSE_SET_ATTR_UID) != 0 ? attr->st_uid : static_cast<uid_t>(-1),
               (toSet & FUSE_SET_ATTR_GID) != 0 ? attr->st_gid : static_cast<gid_t>(-1), t.handle);
    if ((toSet & FUSE_SET_ATTR_SIZE) != 0) {
      if (attr->st_size < 0) throw FsError(EINVAL, "negative size");
      fs.truncate(t.path, static_cast<std::uint64_t>(attr->st_size), t.handle);
    }
    if ((toSet & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) != 0) {
      struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
      if ((toSet & FUSE_SET_ATTR_ATIME_NOW) != 0) times[0].tv_nsec = UTIME_NOW;
      else if ((toSet & FUSE_SET_ATTR_ATIME) != 0) times[0] = attr->st_atim;
      if ((toSet & FUSE_SET_ATTR_MTIME_NOW) != 0) times[1].tv_nsec = UTIME_NOW;
      else if ((toSet & FUSE_SET_ATTR_MTIME) != 0) times[1] = attr->st_mtim;
      fs.utimens(t.path, times, t.handle);
    }
    const struct stat st = fs.getattr(t.path, t.handle);
    fuse_reply_attr(req, &st, kCacheSeconds);
  });
}

void opReadlink(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "readlink", ino, [&] {
    const auto lock = sharingNames(req);
    const std::string target = bridge(req).fs.readlink(bridge(req).nodes.namedPath(ino));
    fuse_reply_readlink(req, target.c_str());
  });
}

void opMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  guarded(req, "mkdir", parent, [&] {
    const auto lock = sharingNames(req);
    const std::string path = childPath(req, parent, name);
    bridge(req).fs.mkdir(path, mode, caller(req));
    replyEntry(req, path, bridge(req).fs.getattr(path, nullptr));
  });
}

// Only regular files (mknod(2) with S_IFREG, as some tools create empty files); devices and fifos have no
// place in a repository.
void opMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  guarded(req, "mknod", parent, [&] {
    const auto lock = sharingNames(req);
    if (!S_ISREG(mode)) throw FsError(EPERM, "only regular files, directories and links can be created");
    const std::string path = childPath(req, parent, name);
    PgbrFs& fs = bridge(req).fs;
    std::unique_ptr<FileHandle> handle = fs.create(path, mode, O_WRONLY | O_CREAT | O_EXCL, caller(req));
    fs.flush(*handle);
    fs.release(std::move(handle));
    replyEntry(req, path, fs.getattr(path, nullptr));
  });
}

void opUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "unlink", parent, [&] {
    const auto lock = changingNames(req);
    const std::string path = childPath(req, parent, name);
    bridge(req).fs.unlink(path);
    bridge(req).nodes.removed(path);
    fuse_reply_err(req, 0);
  });
}

void opRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  guarded(req, "rmdir", parent, [&] {
    const auto lock = changingNames(req);
    const std::string path = childPath(req, parent, name);
    bridge(req).fs.rmdir(path);
    bridge(req).nodes.removed(path);
    fuse_reply_err(req, 0);
  });
}

void opSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  guarded(req, "symlink", parent, [&] {
    const auto lock = sharingNames(req);
    const std::string path = childPath(req, parent, name);
    bridge(req).fs.symlink(link, path, caller(req));
    replyEntry(req, path, bridge(req).fs.getattr(path, nullptr));
  });
}

void opRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newParent, const char* newName,
              unsigned int flags) {
  guarded(req, "rename", parent, [&] {
    const auto lock = changingNames(req);
    // An exchange would swap two open files' names; nothing in a repository needs it.
    if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) != 0) throw FsError(EINVAL, "unsupported rename flags");
    const std::string from = childPath(req, parent, name), to = childPath(req, newParent, newName);
    bridge(req).fs.rename(from, to, flags);
    bridge(req).nodes.renamed(from, to);
    fuse_reply_err(req, 0);
  });
}

void opLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newParent, const char* newName) {
  guarded(req, "link", ino, [&] {
    const auto lock = sharingNames(req);
    const std::string to = childPath(req, newParent, newName);
    bridge(req).fs.link(bridge(req).nodes.namedPath(ino), to);
    replyEntry(req, to, bridge(req).fs.getattr(to, nullptr));
  });
}

// O_DIRECT cannot be honoured through a cipher (a 16-byte header misaligns every block): such opens are served
// through the page cache instead of failing, so tools like pg_test_fsync work.
void finishOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, std::unique_ptr<FileHandle> handle,
                const struct stat& st) {
  fi->direct_io = 0;
  // The page cache is kept across opens while the content is unchanged (libfuse's auto_cache).
  // A view's content that never changes keeps its pages always.
  fi->keep_cache = handle->view ? handle->view->immutable()
                                : bridge(req).nodes.sameContentAsLastOpen(ino, static_cast<std::uint64_t>(st.st_size),
                                                                          st.st_mtim);
  bridge(req).nodes.opened(ino, handle->staged);
  fi->fh = reinterpret_cast<std::uint64_t>(handle.release());
}

void opOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "open", ino, [&] {
    const auto lock = sharingNames(req);
    PgbrFs& fs = bridge(req).fs;
    const std::string path = bridge(req).nodes.namedPath(ino);
    std::unique_ptr<FileHandle> handle = fs.open(path, fi->flags & ~O_DIRECT, caller(req));
    const struct stat st = fs.getattr(path, handle.get());
    FileHandle* opened = handle.get();
    finishOpen(req, ino, fi, std::move(handle), st);
    if (fuse_reply_open(req, fi) != 0) {  // interrupted: the kernel will not release it
      bridge(req).nodes.closed(ino);
      fs.release(std::unique_ptr<FileHandle>(opened));
    }
  });
}

void opCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  guarded(req, "create", parent, [&] {
    const auto lock = sharingNames(req);
    PgbrFs& fs = bridge(req).fs;
    const std::string path = childPath(req, parent, name);
    std::unique_ptr<FileHandle> handle = fs.create(path, mode, fi->flags & ~O_DIRECT, caller(req));
    fuse_entry_param entry{};
    entry.attr = fs.getattr(path, handle.get());
    entry.ino = bridge(req).nodes.reference(path);
    entry.attr_timeout = kCacheSeconds;
    entry.entry_timeout = kCacheSeconds;
    FileHandle* opened = handle.get();
    finishOpen(req, entry.ino, fi, std::move(handle), entry.attr);
    if (fuse_reply_create(req, &entry, fi) != 0) {
      bridge(req).nodes.closed(entry.ino);
      bridge(req).nodes.forget(entry.ino, 1);
      fs.release(std::unique_ptr<FileHandle>(opened));
    }
  });
}

// One reply buffer per thread, reused: libfuse's fuse_reply_data would allocate one per read.
void opRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  guarded(req, "read", ino, [&] {
    thread_local std::vector<std::uint8_t> buffer;
    if (buffer.size() < size) buffer.resize(size);
    PgbrFs& fs = bridge(req).fs;
    std::size_t done = 0;
    while (done < size) {
      const std::size_t n = fs.read(*handleOf(fi), static_cast<std::uint64_t>(offset) + done,
                                    MutableByteView(buffer.data() + done, size - done));
      if (n == 0) break;
      done += n;
    }
    fuse_reply_buf(req, reinterpret_cast<const char*>(buffer.data()), done);
  });
}

void opWrite(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t offset, fuse_file_info* fi) {
  guarded(req, "write", ino, [&] {
    bridge(req).fs.write(*handleOf(fi), static_cast<std::uint64_t>(offset),
                         ByteView(reinterpret_cast<const std::uint8_t*>(data), size));
    fuse_reply_write(req, size);
  });
}

void opFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "close", ino, [&] {
    const auto lock = sharingNames(req);
    bridge(req).fs.flush(*handleOf(fi));
    fuse_reply_err(req, 0);
  });
}

void opRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "release", ino, [&] {
    const auto lock = sharingNames(req);
    FileHandle* handle = handleOf(fi);
    bridge(req).nodes.closed(ino);
    bridge(req).fs.release(std::unique_ptr<FileHandle>(handle));
    fuse_reply_err(req, 0);
  });
}

void opFsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) {
  guarded(req, "fsync", ino, [&] {
    bridge(req).fs.fsync(*handleOf(fi));
    fuse_reply_err(req, 0);
  });
}

// A directory listing is taken at opendir and again at each rewind (offset 0), and served from there by offset.
struct DirHandle {
  std::string path;
  std::vector<DirEntry> entries;  // with . and .. first
  bool served = false;            // a read at offset 0 after this is a rewind
};

void listInto(PgbrFs& fs, DirHandle& dir) {
  dir.served = false;
  dir.entries = {{".", S_IFDIR, 0}, {"..", S_IFDIR, 0}};
  for (DirEntry& entry : fs.readdir(dir.path)) dir.entries.push_back(std::move(entry));
}

void opOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  guarded(req, "opendir", ino, [&] {
    const auto lock = sharingNames(req);
    auto dir = std::make_unique<DirHandle>();
    dir->path = bridge(req).nodes.namedPath(ino);
    listInto(bridge(req).fs, *dir);
    fi->fh = reinterpret_cast<std::uint64_t>(dir.get());
    if (fuse_reply_open(req, fi) == 0) (void)dir.release();
  });
}

void opReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi) {
  guarded(req, "readdir", ino, [&] {
    const auto lock = sharingNames(req);
    DirHandle& dir = *reinterpret_cast<DirHandle*>(fi->fh);
    if (offset == 0 && dir.served) listInto(bridge(req).fs, dir);
    dir.served = true;
    thread_local std::vector<char> buffer;
    if (buffer.size() < size) buffer.resize(size);
    std::size_t used = 0;
    for (std::size_t i = static_cast<std::size_t>(offset); i < dir.entries.size(); i++) {
      struct stat st {};
      st.st_mode = dir.entries[i].type;
      st.st_ino = dir.entries[i].inode;
      const std::size_t need = fuse_add_direntry(req, buffer.data() + used, size - used, dir.entries[i].name.c_str(),
                                                 &st, static_cast<off_t>(i + 1));
      if (need > size - used) break;
      used += need;
    }
    fuse_reply_buf(req, buffer.data(), used);
  });
}

void opReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<DirHandle*>(fi->fh);
  fuse_reply_err(req, 0);
}

void opFsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) {
  guarded(req, "fsyncdir", ino, [&] {
    const auto lock = sharingNames(req);
    bridge(req).fs.fsyncdir(reinterpret_cast<DirHandle*>(fi->fh)->path);
    fuse_reply_err(req, 0);
  });
}

void opStatfs(fuse_req_t req, fuse_ino_t ino) {
  guarded(req, "statfs", ino, [&] {
    const struct statvfs st = bridge(req).fs.statfs();
    fuse_reply_statfs(req, &st);
  });
}

void replyXattr(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
  } else if (size < value.size()) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value.data(), value.size());
  }
}

void opGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  guarded(req, "getxattr", ino, [&] {
    const auto lock = sharingNames(req);
    Target t;
    resolve(req, ino, nullptr, t);
    const std::optional<std::string> found = bridge(req).fs.getxattr(t.path, name);
    if (!found) throw FsError(ENODATA, "no such attribute");
    replyXattr(req, *found, size);
  });
}

void opListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  guarded(req, "listxattr", ino, [&] {
    const auto lock = sharingNames(req);
    Target t;
    resolve(req, ino, nullptr, t);
    std::string names;
    for (const std::string& name : bridge(req).fs.listxattr(t.path)) names += name + '\0';
    replyXattr(req, names, size);
  });
}

void opSetxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { fuse_reply_err(req, ENOTSUP); }
void opRemovexattr(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, ENOTSUP); }

fuse_lowlevel_ops makeOperations() {
  fuse_lowlevel_ops ops{};
  ops.init = opInit;
  ops.lookup = opLookup;
  ops.forget = opForget;
  ops.forget_multi = opForgetMulti;
  ops.getattr = opGetattr;
  ops.setattr = opSetattr;
  ops.readlink = opReadlink;
  ops.mknod = opMknod;
  ops.mkdir = opMkdir;
  ops.unlink = opUnlink;
  ops.rmdir = opRmdir;
  ops.symlink = opSymlink;
  ops.rename = opRename;
  ops.link = opLink;
  ops.open = opOpen;
  ops.create = opCreate;
  ops.read = opRead;
  ops.write = opWrite;
  ops.flush = opFlush;
  ops.release = opRelease;
  ops.fsync = opFsync;
  ops.opendir = opOpendir;
  ops.readdir = opReaddir;
  ops.releasedir = opReleasedir;
  ops.fsyncdir = opFsyncdir;
  ops.statfs = opStatfs;
  ops.getxattr = opGetxattr;
  ops.listxattr = opListxattr;
  ops.setxattr = opSetxattr;
  ops.removexattr = opRemovexattr;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& fuseOperations() {
  static const fuse_lowlevel_ops ops = makeOperations();
  return ops;
}

}  // namespace pgbr::fs
