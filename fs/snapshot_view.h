// The snapshot view: MOUNT/snapshot/<stanza>/<label>/ is a read-only plain PostgreSQL data directory as the backup
// holds it (backup/snapshot_tree.h lays it out), MOUNT/snapshot/<stanza>/latest a link to the newest label. Files
// read as their decompressed content, taken from the backup that stores them (references, bundles), decrypted
// with the key of the repository file, streamed (backup/backup_file_stream.h) and checked against the manifest's
// SHA-1 when read to the end. Labels are the current backups of backup.info; manifests are loaded once per label
// and kept (a bounded number), all dropped when backup.info changes. Everything under snapshot/ is read-only (EROFS).
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/snapshot_tree.h"
#include "backup/storage.h"
#include "fs/view.h"

namespace pgbr::fs {

class PgbrFs;

class SnapshotView final : public View {
 public:
  static constexpr const char* kTop = "snapshot";
  static constexpr const char* kLatest = "latest";
  // Manifests kept in memory (a manifest of a large cluster holds thousands of files).
  static constexpr std::size_t kTreeCacheSize = 8;

  // `fs` must outlive the view; the view reads the backing tree and keys through it.
  explicit SnapshotView(PgbrFs& fs);

  bool serves(const std::string& path) const override;
  struct stat getattr(const std::string& path) override;
  std::string readlink(const std::string& path) override;
  std::vector<DirEntry> readdir(const std::string& path) override;
  std::unique_ptr<ViewFile> open(const std::string& path, int flags, Caller caller) override;
  std::vector<DirEntry> entriesIn(const std::string& dir) override;

 private:
  struct Stanza {
    std::optional<backup::StorageInfo> signature;  // backup.info as last loaded
    std::chrono::steady_clock::time_point checkedAt;
    std::vector<std::string> labels;  // current backups, oldest first
  };
  // What a path under snapshot/ names.
  struct Place {
    std::string stanza;
    std::string label;  // empty for snapshot/ and snapshot/<stanza>; "latest" for the link
    std::string rest;   // path inside the label's data directory
    int depth = 0;      // 1 snapshot/, 2 snapshot/<stanza>, 3 a label or latest, 4 inside a label
  };

  static Place parse(const std::string& path);
  bool stanzaExists(const std::string& stanza);
  std::vector<std::string> labels(const std::string& stanza);
  std::shared_ptr<const backup::SnapshotTree> tree(const std::string& stanza, const std::string& label);
  // The entry at `place` (depth 3 or 4, not latest); throws FsError(ENOENT).
  std::pair<std::shared_ptr<const backup::SnapshotTree>, const backup::SnapshotEntry*> entry(const Place& place);
  std::optional<std::string> plaintext(const std::string& path);
  struct stat directoryStat(std::uint64_t inode) const;
  struct stat entryStat(const backup::SnapshotEntry& entry) const;

  PgbrFs& fs_;
  uid_t ownerUid_ = 0;
  gid_t ownerGid_ = 0;
  time_t started_;  // times of snapshot/, snapshot/<stanza> and latest: when the mount started
  std::mutex mutex_;
  std::map<std::string, Stanza> stanzas_;
  // Trees by "<stanza>/<label>", most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<const backup::SnapshotTree>>> trees_;
};

}  // namespace pgbr::fs
