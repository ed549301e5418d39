// One backup as the plain PostgreSQL data directory it was taken from: the directory tree a restore would produce,
// computed from the backup manifest alone (FORMAT.md §5, §5.1). Every manifest path is a directory (those whose
// contents were excluded, pg_wal and friends, stay empty), every manifest file a regular file with the manifest's
// size, mode, owner and time, whose bytes are found with storedBackupFile(). Links other than tablespaces are shown as
// what they point to, as pgbackrest restore does without --link-all. Tablespace pg_tblspc/<oid> is a relative link
// to pgbrfs_tblspc/<oid>, a directory of the same tree holding the tablespace, so that copying the tree (cp -a)
// gives a data directory that starts with its tablespaces inside it. tablespace_map is left out, as restore does:
// PostgreSQL would recreate the links with the original paths.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backup/backup_file_stream.h"
#include "backup/manifest.h"

namespace pgbr::backup {

struct SnapshotEntry {
  enum class Type { Directory, File, Link };
  Type type = Type::Directory;
  mode_t mode = 0700;                   // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::int64_t mtime = 0;               // unix seconds
  std::uint64_t size = 0;               // files: manifest size; links: length of the target
  std::uint64_t inode = 0;              // stable for the label and path, never 0 or 1
  std::string linkTarget;               // links
  const ManifestFile* file = nullptr;   // files: the manifest entry
  std::vector<std::string> children;    // directories: entry names, sorted
};

class SnapshotTree {
 public:
  // The directory that holds tablespace contents, next to pg_tblspc.
  static constexpr std::string_view kTablespaceDir = "pgbrfs_tblspc";

  // Lays out `manifest` (a backup of `stanza`). User and group names resolve through the system's user database;
  // names it does not know, and entries without a name, get `fallbackUid`/`fallbackGid`. Throws FormatError for a
  // manifest that cannot be laid out (an invalid mode, a file outside every target).
  SnapshotTree(Manifest manifest, std::string stanza, uid_t fallbackUid, gid_t fallbackGid);
  SnapshotTree(const SnapshotTree&) = delete;
  SnapshotTree& operator=(const SnapshotTree&) = delete;

  // The entry at `path`, relative to the data directory ("" is the data directory itself); null when absent.
  // Thread-safe (the tree is immutable).
  const SnapshotEntry* find(std::string_view path) const;
  // Where a file entry's bytes are. Precondition: entry.type == File.
  StoredBackupFile stored(const SnapshotEntry& entry) const;

  const Manifest& manifest() const { return manifest_; }
  const std::string& label() const { return manifest_.backup.label; }
  std::size_t size() const { return entries_.size(); }

 private:
  SnapshotEntry& directory(const std::string& path);
  void add(const std::string& path, SnapshotEntry entry);

  Manifest manifest_;
  std::string stanza_;
  std::unordered_map<std::string, SnapshotEntry> entries_;
};

// The snapshot path of a manifest name: "pg_data" -> "", "pg_data/base/1" -> "base/1",
// "pg_tblspc/16385/PG_15_x" -> "pgbrfs_tblspc/16385/PG_15_x"; nullopt for names that have no place in the snapshot.
std::optional<std::string> snapshotPathOf(std::string_view manifestName);

}  // namespace pgbr::backup
