// The WAL view: `archive/<stanza>/<WAL name>` (segment, .partial, .history, .backup) is both the inbox and the
// lookup of the stanza's archive, so that plain `cp` works as archive_command and restore_command.
// - Inbox: a file written under such a name is kept in memory and archived when it is closed, exactly as
//   `pgbr archive-push` archives it (header check against archive.info, "<name>-<sha1>.<ext>" compressed with the
//   mount's compress-type/level, stored in the archive id directory through PgbrFs, hence encrypted with the
//   archive sub-pass and published with fsync). close() returns once the file is durable, or fails:
//     EEXIST  the segment is archived with different content (ArchiveDuplicate); identical content succeeds
//     EINVAL  not WAL of this stanza's cluster (ArchiveMismatch) or not a WAL file (bad page header)
//     EIO     no archive.info (run stanza-create), an unreadable repository file, or any other failure
//     (storage errno such as ENOSPC passes through; EFBIG at write() beyond kMaxWalFileSize)
//   with one log line naming the file, the reason and what to do.
// - Lookup: the name reads as the archived file, found as `pgbr archive-get` finds it (archive ids of the current
//   database, newest first), decompressed and checked against the SHA-1 in its name (EIO and a log line on a
//   mismatch); absent WAL is ENOENT. The verified plaintext of the last few lookups is cached (WalPlainCache), so a
//   stat, open and read decompress once. These names are not listed by readdir.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "backup/archive_info.h"
#include "backup/compress_type.h"
#include "fs/pgbrfs.h"
#include "fs/view.h"
#include "fs/wal_plain_cache.h"

namespace pgbr::fs {

class WalStream;

struct WalViewOptions {
  backup::CompressType compressType = backup::CompressType::Gz;
  int compressLevel = 3;
};

// Largest file the inbox accepts (a write beyond it is EFBIG): WAL segments are 16 MiB unless initdb chose
// --wal-segsize; 64 MiB keeps memory bounded while allowing segments up to 64 MiB.
inline constexpr std::uint64_t kMaxWalFileSize = 64u << 20;

// "archive/<stanza>/<WAL name>" split, or nullopt when `path` is not one.
struct WalPath {
  std::string stanza;
  std::string name;
};
std::optional<WalPath> parseWalPath(const std::string& path);

class WalArchiveView final : public View {
 public:
  WalArchiveView(PgbrFs& fs, WalViewOptions options);
  ~WalArchiveView() override;

  bool serves(const std::string& path) const override;
  struct stat getattr(const std::string& path) override;
  std::unique_ptr<ViewFile> open(const std::string& path, int flags, Caller caller) override;
  std::unique_ptr<ViewFile> create(const std::string& path, mode_t mode, int flags, Caller caller) override;

  struct Pending;  // the content of a name being written (shared by its open descriptors)
  class InboxFile;
  class ArchivedFile;

 private:
  struct Found {
    struct stat attributes;             // the stored file's, with the plaintext size
    std::shared_ptr<const Bytes> plain; // decompressed and verified
  };
  // The archived file of `wal`, or nullopt when the archive does not have it.
  std::optional<Found> lookup(const WalPath& wal);
  // Whether the archive has `wal` (without reading it).
  bool archived(const WalPath& wal);
  // archive.info of `stanza`, nullptr when the stanza has none (neither archive.info nor its copy).
  std::shared_ptr<const backup::ArchiveInfo> archiveInfo(const std::string& stanza);
  std::unique_ptr<WalStream> newStream() const;
  std::shared_ptr<Pending> pendingFor(const std::string& path);
  std::shared_ptr<Pending> makePending(const std::string& path, const WalPath& wal, mode_t mode, Caller caller);
  // Archives the pending content; throws FsError with the errno close() returns.
  void archive(Pending& pending);

  PgbrFs& fs_;
  WalViewOptions options_;
  WalPlainCache plain_{4};
  std::mutex pushMutex_;     // one archive-push at a time: two pushes of one name must not both store it
  std::mutex pendingMutex_;
  std::map<std::string, std::weak_ptr<Pending>> pending_;
  std::mutex infoMutex_;
  struct CachedInfo {
    ino_t inode;
    off_t size;
    struct timespec mtime;
    std::shared_ptr<const backup::ArchiveInfo> info;
  };
  std::map<std::string, CachedInfo> infos_;  // by stanza, valid while archive.info's stat is unchanged
};

}  // namespace pgbr::fs
