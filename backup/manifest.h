// backup/<stanza>/<label>/backup.manifest as a typed model (FORMAT.md §5, §5.1, §5.2): what one backup holds —
// its label, type, WAL range and options, the PostgreSQL cluster, targets (PGDATA, tablespaces), databases, and
// every file, link and directory with its size, checksums, owner and the backup that physically stores it; in
// encrypted repositories also the sub-pass that encrypts the backup's files (§3). Loads from and saves to the
// decrypted plaintext; unknown sections, keys and JSON members are carried along. Also the repository paths
// of manifests, backup.history copies and backup files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/backup_label.h"
#include "backup/info_reader.h"
#include "backup/ini_document.h"
#include "backup/json_value.h"

namespace pgbr::backup {

// A user or group as the manifest stores it: a name, or JSON `false` (no name) when the id had no name.
struct ManifestOwner {
  std::optional<std::string> name;
  bool operator==(const ManifestOwner&) const = default;
};

// [backup]
struct ManifestBackup {
  std::optional<std::string> archiveStart;   // backup-archive-start: first WAL segment
  std::optional<std::string> archiveStop;    // backup-archive-stop: last WAL segment
  std::optional<bool> blockIncr;             // backup-block-incr (only written when true)
  std::optional<bool> bundle;                // backup-bundle (only written when true)
  std::optional<bool> bundleRaw;             // backup-bundle-raw (only written when true)
  std::string label;                         // backup-label
  std::optional<std::string> lsnStart;       // backup-lsn-start
  std::optional<std::string> lsnStop;        // backup-lsn-stop
  std::optional<std::string> prior;          // backup-prior (diff/incr)
  std::optional<std::string> reference;      // backup-reference: comma-joined labels of the set, this one last
  std::int64_t timestampCopyStart = 0;       // backup-timestamp-copy-start
  std::int64_t timestampStart = 0;           // backup-timestamp-start
  std::int64_t timestampStop = 0;            // backup-timestamp-stop
  BackupType type = BackupType::Full;        // backup-type
};

// [backup:db]: the cluster that was backed up.
struct ManifestBackupDb {
  unsigned catalogVersion = 0;  // db-catalog-version
  unsigned controlVersion = 0;  // db-control-version
  unsigned id = 0;              // db-id: history id in backup.info
  std::uint64_t systemId = 0;   // db-system-id
  std::string version;          // db-version
};

// [backup:option]: options the backup ran with. Optional members are absent in manifests of older versions.
struct ManifestBackupOptions {
  bool archiveCheck = false;                          // option-archive-check
  bool archiveCopy = false;                           // option-archive-copy
  std::optional<bool> backupStandby;                  // option-backup-standby
  std::optional<std::uint64_t> bufferSize;            // option-buffer-size
  std::optional<bool> checksumPage;                   // option-checksum-page
  bool compress = false;                              // option-compress
  std::optional<unsigned> compressLevel;              // option-compress-level
  std::optional<unsigned> compressLevelNetwork;       // option-compress-level-network
  std::optional<std::string> compressType;            // option-compress-type: "gz", "none", ...
  std::optional<bool> delta;                          // option-delta
  bool hardlink = false;                              // option-hardlink
  bool online = false;                                // option-online
  std::optional<unsigned> processMax;                 // option-process-max
};

// One [backup:target] line: `pg_data`, `pg_tblspc/<oid>` or a link inside PGDATA.
struct ManifestTarget {
  std::string name;
  std::optional<std::string> file;            // file (link to a file)
  std::string path;                           // path
  std::optional<std::string> tablespaceId;    // tablespace-id (a string of the oid)
  std::optional<std::string> tablespaceName;  // tablespace-name
  std::string type;                           // type: "path" or "link"
  JsonValue::Object unknown;
};

// One [db] line: a database of the cluster.
struct ManifestDatabase {
  std::string name;
  unsigned id = 0;            // db-id: the database oid
  unsigned lastSystemId = 0;  // db-last-system-id
  JsonValue::Object unknown;
};

// One [target:file] line. Absent optional members mean what FORMAT.md §5.1 says (no checksum: empty file; no
// repo-size: same as size; no reference: stored in this backup; no user/group/mode: the [target:file:default]).
struct ManifestFile {
  std::string name;                                 // "pg_data/base/1/112", "pg_tblspc/16385/PG_15_.../..."
  std::optional<std::uint64_t> blockIncrSize;       // bi: block size / 8192 (block incremental)
  std::optional<std::uint64_t> blockIncrChecksum;   // bic: block checksum size (written when not 6)
  std::optional<std::uint64_t> blockIncrMapSize;    // bim: block map size in bytes
  std::optional<std::uint64_t> bundleId;            // bni: in bundle/<bni> of the holding backup
  std::optional<std::uint64_t> bundleOffset;        // bno: offset in the bundle (omitted when 0)
  std::optional<std::string> checksum;              // checksum: SHA-1 of the original content
  std::optional<bool> checksumPage;                 // checksum-page: all pages valid
  std::optional<JsonValue::Array> checksumPageError;  // checksum-page-error: pages and [first,last] ranges
  std::optional<ManifestOwner> group;               // group
  std::optional<std::string> mode;                  // mode, "0600"
  std::optional<std::string> repoChecksum;          // rck: SHA-1 of the stored bytes
  std::optional<std::string> reference;             // reference: label of the backup holding the bytes
  std::optional<std::uint64_t> repoSize;            // repo-size: stored bytes (written when not size)
  std::uint64_t size = 0;                           // size: original size
  std::int64_t timestamp = 0;                       // timestamp: mtime, unix seconds
  std::optional<ManifestOwner> user;                // user
  JsonValue::Object unknown;

  // Bytes the file occupies in the repository: repo-size, or size when absent.
  std::uint64_t storedSize() const noexcept { return repoSize.value_or(size); }
};

// One [target:link] line.
struct ManifestLink {
  std::string name;
  std::string destination;             // destination
  std::optional<ManifestOwner> group;  // group
  std::optional<ManifestOwner> user;   // user
  JsonValue::Object unknown;
};

// One [target:path] line (`{}` when every attribute is the default).
struct ManifestPath {
  std::string name;
  std::optional<ManifestOwner> group;  // group
  std::optional<std::string> mode;     // mode
  std::optional<ManifestOwner> user;   // user
  JsonValue::Object unknown;
};

// [target:file:default], [target:link:default], [target:path:default].
struct ManifestDefaults {
  std::optional<ManifestOwner> group;  // group
  std::optional<std::string> mode;     // mode (files and paths)
  std::optional<ManifestOwner> user;   // user
};

// Where the bytes of a file are (FORMAT.md §5.2), relative to backup/<stanza>/.
struct ManifestFileLocation {
  std::string path;          // "<label>/pg_data/base/1/112.gz", "<label>/bundle/3", "<label>/pg_data/x.pgbi"
  std::uint64_t offset = 0;  // byte offset in `path` (bundles)
  std::uint64_t size = 0;    // stored bytes (repo-size, or size)
  bool operator==(const ManifestFileLocation&) const = default;
};

// Move-only (it holds the sub-pass as a crypto::Secret). Const access from several threads is safe; the public
// members are plain data that callers edit directly before render().
class Manifest {
 public:
  Manifest() = default;

  // Loads the plaintext of backup.manifest (or its .copy, or a gunzipped backup.history copy). Verifies format
  // and checksum first. Throws FormatError, JsonFormatError or ChecksumError; `path` names the file in messages.
  static Manifest parse(std::string_view plaintext, const std::string& path);
  static Manifest fromDocument(const IniDocument& document, const std::string& path);

  // The document pgBackRest would write: entries of each section ordered by name, sections ordered, checksum
  // sealed, unknown content merged back. The text holds the manifest sub-pass in clear: wipe it after encrypting.
  IniDocument toDocument() const;
  std::string render() const { return toDocument().render(); }

  const ManifestFile* findFile(std::string_view name) const;
  // backup-reference split at ',' (empty if absent).
  std::vector<std::string> referenceList() const;

  // Where `file`'s bytes are stored (FORMAT.md §5.2): in the backup named by its reference, or this one; then
  // bundle/<bni> at bno when bundled, else the file name plus `compressExtension` (".gz", ".zst", "" for none)
  // or ".pgbi" for a block-incremental file. A zero-length file of a bundled backup is not stored at all.
  ManifestFileLocation fileLocation(const ManifestFile& file, std::string_view compressExtension) const;
  // fileLocation().path.
  std::string repoPath(const ManifestFile& file, std::string_view compressExtension) const;

  // The four size totals backup.info records for this backup (FORMAT.md §4.3).
  struct Totals {
    std::uint64_t size = 0;           // Σ size
    std::uint64_t sizeDelta = 0;      // Σ size of files stored in this backup (no reference)
    std::uint64_t repoSize = 0;       // Σ repo-size (size when absent)
    std::uint64_t repoSizeDelta = 0;  // Σ repo-size of files stored in this backup
    bool operator==(const Totals&) const = default;
  };
  Totals totals() const;

  // Paths relative to backup/<stanza>/: "<label>/backup.manifest" and the gzip'd history copy
  // "backup.history/<YYYY>/<label>.manifest.gz" (YYYY = first four characters of the label).
  static std::string manifestPath(const BackupLabel& label);
  static std::string historyPath(const BackupLabel& label);

  InfoHeader header;                     // [backrest] version, [cipher] cipher-pass (manifest sub-pass)
  ManifestBackup backup;                 // [backup]
  ManifestBackupDb backupDb;             // [backup:db]
  ManifestBackupOptions options;         // [backup:option]
  std::vector<ManifestTarget> targets;   // [backup:target]
  std::vector<ManifestDatabase> databases;          // [db]
  std::optional<JsonValue::Object> annotation;      // [metadata] annotation
  std::vector<ManifestFile> files;                  // [target:file]
  std::optional<ManifestDefaults> fileDefault;      // [target:file:default]
  std::vector<ManifestLink> links;                  // [target:link]
  std::optional<ManifestDefaults> linkDefault;      // [target:link:default]
  std::vector<ManifestPath> paths;                  // [target:path]
  std::optional<ManifestDefaults> pathDefault;      // [target:path:default]
  IniDocument unknown;  // sections and keys this code does not know, kept for saving
};

}  // namespace pgbr::backup
