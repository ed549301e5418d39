// Views: parts of the mount that are computed from the repository instead of mirroring the backing tree one to one
// (the WAL inbox under archive/<stanza>/<WAL name>, read-only snapshots under snapshot/). PgbrFs asks its views, in
// order, whether one serves a path before it looks at the backing tree; a served path never touches the backing
// tree through the raw view. Views are thread-safe: the FUSE bridge calls them from many threads at once.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "fs/fs_error.h"

namespace pgbr::fs {

struct Caller {
  uid_t uid;
  gid_t gid;
};

struct DirEntry {
  std::string name;
  mode_t type;  // S_IFREG, S_IFDIR, S_IFLNK, ...
  ino_t inode;
};

// One open(2) of a path served by a view. Errors are thrown as FsError (or any exception the bridge maps to EIO).
class ViewFile {
 public:
  virtual ~ViewFile() = default;
  // fstat of the open file (plaintext size).
  virtual struct stat attributes() = 0;
  // Up to out.size() bytes at `offset`; 0 at the end.
  virtual std::size_t read(std::uint64_t offset, MutableByteView out) = 0;
  virtual void write(std::uint64_t, ByteView) { throw FsError(EROFS, "read-only view"); }
  virtual void truncate(std::uint64_t) { throw FsError(EROFS, "read-only view"); }
  // close(2) of one descriptor: a view that acts on what was written does it here and throws when it cannot, so
  // that close() fails. Called for every close of a descriptor (and dup); must be cheap when nothing changed.
  virtual void flush() {}
  virtual void fsync() {}
  // The content of this path never changes while the mount runs: the kernel may keep cached pages across opens.
  virtual bool immutable() const { return false; }
};

class View {
 public:
  virtual ~View() = default;
  // Whether `path` (repository-relative, "" is the root) belongs to this view. Must be cheap and must not throw.
  virtual bool serves(const std::string& path) const = 0;
  // Attributes of a served path; FsError(ENOENT) when it does not exist.
  virtual struct stat getattr(const std::string& path) = 0;
  virtual std::string readlink(const std::string&) { throw FsError(EINVAL, "not a link"); }
  virtual std::vector<DirEntry> readdir(const std::string&) { throw FsError(ENOTDIR, "not a directory"); }
  virtual std::unique_ptr<ViewFile> open(const std::string& path, int flags, Caller caller) = 0;
  virtual std::unique_ptr<ViewFile> create(const std::string&, mode_t, int, Caller) {
    throw FsError(EROFS, "read-only view");
  }
  // Entries this view adds to the listing of backing directory `dir` (a view's top directory at the root).
  virtual std::vector<DirEntry> entriesIn(const std::string&) { return {}; }
  // Everything else a file system can be asked to do with a served path (mkdir, unlink, rename, chmod, ...) is
  // refused by PgbrFs with this errno.
  virtual int refusal() const { return EROFS; }
};

}  // namespace pgbr::fs
