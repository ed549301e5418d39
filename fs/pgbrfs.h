// The file system behind the mount, free of FUSE types: every operation takes repository-relative paths
// ("" is the root) and either returns its result or throws (FsError with an errno, or a cipher/format/key error
// that the FUSE boundary maps to EIO). Names are the backing names; regular files are decrypted on read and
// encrypted on write with the key FORMAT.md §3 assigns to their path (backup::KeyResolver).
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/key_resolver.h"
#include "backup/posix_storage.h"
#include "crypto/cipher_spec.h"
#include "fs/plain_size_cache.h"
#include "fs/staged_file.h"
#include "fs/view.h"

namespace pgbr::fs {

struct FsOptions {
  std::string backingDir;
  crypto::CipherSpec spec = crypto::CipherSpec::none();
  bool writebackCache = true;  // the kernel then orders O_APPEND itself and may deliver writes out of order
};

// One open(2) of a file through the mount. All handles of one file share its StagedFile; a path served by a view
// has a ViewFile instead.
struct FileHandle {
  std::shared_ptr<StagedFile> staged;
  std::unique_ptr<ViewFile> view;
  std::string path;                         // as opened (for messages)
  int flags = 0;
  bool writtenSinceFlush = false;
};

class PgbrFs {
 public:
  explicit PgbrFs(FsOptions options);

  struct stat getattr(const std::string& path, FileHandle* handle);
  std::string readlink(const std::string& path);
  void mkdir(const std::string& path, mode_t mode, Caller caller);
  void unlink(const std::string& path);
  void rmdir(const std::string& path);
  void symlink(const std::string& target, const std::string& path, Caller caller);
  void rename(const std::string& from, const std::string& to, unsigned int flags);
  void link(const std::string& from, const std::string& to);
  void chmod(const std::string& path, mode_t mode, FileHandle* handle);
  void chown(const std::string& path, uid_t uid, gid_t gid, FileHandle* handle);
  void truncate(const std::string& path, std::uint64_t size, FileHandle* handle);
  void utimens(const std::string& path, const struct timespec times[2], FileHandle* handle);

  std::unique_ptr<FileHandle> open(const std::string& path, int flags, Caller caller = {0, 0});
  std::unique_ptr<FileHandle> create(const std::string& path, mode_t mode, int flags, Caller caller);
  std::size_t read(FileHandle& handle, std::uint64_t offset, MutableByteView out);
  void write(FileHandle& handle, std::uint64_t offset, ByteView data);
  void flush(FileHandle& handle);
  void release(std::unique_ptr<FileHandle> handle);
  void fsync(FileHandle& handle);

  std::vector<DirEntry> readdir(const std::string& path);
  void fsyncdir(const std::string& path);
  struct statvfs statfs();
  // The value of an extended attribute (user.pgbrfs.cipher-type), or nullopt (ENODATA).
  std::optional<std::string> getxattr(const std::string& path, const std::string& name);
  std::vector<std::string> listxattr(const std::string& path);

  // Views are asked in the order added; add them before the mount serves requests.
  void addView(std::unique_ptr<View> view);

  const crypto::CipherSpec& spec() const { return options_.spec; }
  bool writebackCache() const { return options_.writebackCache; }
  backup::KeyResolver& keys() { return resolver_; }
  // The backing tree (ciphertext on an encrypted mount), for views that read repository files themselves.
  backup::PosixStorage& backing() { return storage_; }

 private:
  View* viewFor(const std::string& path) const;
  // Throws the view's refusal when a view serves `path`: the operation is not one views support.
  void refuseViewPath(const std::string& path) const;
  std::shared_ptr<StagedFile> findWriter(const std::string& path);
  std::shared_ptr<StagedFile> writerFor(const std::string& path, bool truncate);
  // The file an attribute change applies to: the handle's, else the open file at `path`, if any.
  std::shared_ptr<StagedFile> openFileFor(const std::string& path, FileHandle* handle);
  void refuseStagingName(const std::string& path);
  // Files created through the mount and not published yet exist only in the staging area: a directory holding
  // one is not empty.
  void refuseIfHoldsNewFiles(const std::string& dir);
  void changed(const std::string& path);
  std::uint64_t plainSize(const std::string& path, const struct stat& st);

  FsOptions options_;
  std::vector<std::unique_ptr<View>> views_;
  backup::PosixStorage storage_;
  backup::KeyResolver resolver_;
  StagingArea area_;
  StagingContext staging_;
  PlainSizeCache sizes_;
  std::mutex writersMutex_;
  std::map<std::string, std::weak_ptr<StagedFile>> writers_;  // by path: every open file (readers too)
};

}  // namespace pgbr::fs
