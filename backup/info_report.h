// What `pgbackrest info` (2.45) reports about the stanzas of ONE repository, gathered from its files: status,
// cipher, the PostgreSQL clusters of backup.info, the WAL range found in the archive per archive id, and every
// backup of backup.info (with `--set`, also the databases, links, tablespaces and page checksum errors of that
// backup's manifest). The repository is read through a plain view (an unencrypted repository, or an encrypted one
// through the pgbrfs mount), so the cipher type is the caller's to say. Gathering is in info_report.cc, the two
// renderings in info_report_json.cc and info_report_text.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backup/backup_info.h"
#include "backup/json_value.h"
#include "backup/storage.h"

namespace pgbr::backup {

// pgBackRest's status codes of a stanza (and of the stanza on a repository). The numbers are part of the JSON.
enum class InfoStatus : int {
  Ok = 0,
  MissingStanzaPath = 1,  // backup/<stanza> does not exist
  NoBackup = 2,           // backup.info holds no backup
  MissingStanzaData = 3,  // backup.info and its copy are missing
  BackupMissing = 6,      // the --set backup has no backup.manifest
  Other = 99,             // any other error; InfoReportStanza::error says what
};

// pgBackRest's message for a status: "ok", "missing stanza path", "no valid backups", ...; "other" for Other.
const char* infoStatusMessage(InfoStatus status) noexcept;

struct InfoReportOptions {
  std::string cipherType = "none";   // repo1-cipher-type: "none" or "aes-256-cbc" (reported as is)
  std::optional<std::string> stanza;  // --stanza: only this stanza (reported even when absent)
  std::optional<std::string> set;     // --set: a backup label whose manifest details are added
  unsigned repoKey = 1;               // the N of repoN-path
  // The repository path as the user configured it ("/var/lib/pgbackrest"), put before repository-relative paths
  // in error messages the way pgBackRest names files. Empty: messages name paths relative to the repository.
  std::string repoPath;
};

// One [db:history] entry of backup.info.
struct InfoReportDb {
  unsigned id = 0;
  std::uint64_t systemId = 0;
  std::string version;
};

// The WAL of one cluster in the archive: archive/<stanza>/<archiveId>/<16 hex>/<segment>-<sha1>[.ext]. Only full
// segments count (no .partial, .backup or .history). Listed for the current cluster always, for others only when
// they have WAL.
struct InfoReportArchive {
  unsigned dbId = 0;              // the backup.info history id
  std::string archiveId;          // "15-1"
  std::optional<std::string> min;  // oldest segment name, nullopt when there is none
  std::optional<std::string> max;  // newest segment name
};

// Details of the --set backup, from its manifest.
struct InfoReportSetDetail {
  struct Database {
    std::string name;
    std::uint64_t oid = 0;
  };
  struct Link {
    std::string name;         // path relative to PGDATA, or the file name of a file link
    std::string destination;
  };
  struct Tablespace {
    std::string name;
    std::uint64_t oid = 0;
    std::string destination;
  };
  std::vector<Database> databases;            // user databases (oid > db-last-system-id), manifest order
  std::vector<Link> links;                    // links other than tablespaces
  std::vector<Tablespace> tablespaces;
  std::vector<std::string> checksumPageErrors;  // files whose page checksums failed (PGDATA-relative names)
};

struct InfoReportBackup {
  BackupInfoEntry entry;                     // the backup.info line
  std::optional<InfoReportSetDetail> detail;  // only for the --set backup
};

struct InfoReportStanza {
  std::string name;
  InfoStatus status = InfoStatus::Ok;
  std::string error;          // Other: "[<ErrorType>] <message>", as pgBackRest reports it
  bool backupLockHeld = false;  // always false: pgBackRest's locks are local files we cannot see
  std::string cipher;         // InfoReportOptions::cipherType
  unsigned repoKey = 1;
  std::vector<InfoReportDb> db;            // backup.info history, oldest first
  std::vector<InfoReportArchive> archive;  // in the order of `db`
  std::vector<InfoReportBackup> backups;   // backup.info order (by label)
  std::optional<InfoReportDb> current;     // the current cluster of backup.info, when it loaded
};

struct InfoReport {
  std::vector<InfoReportStanza> stanzas;  // sorted by name
  std::optional<std::string> set;         // InfoReportOptions::set
};

// Reads the repository. Problems with a stanza (unreadable info files, a manifest that does not load, an archive
// id that matches no cluster) become its status (Other, with the error), as pgBackRest reports them; a repository
// whose backup/ directory cannot be listed yields one stanza named after --stanza, or "[invalid]", with status Other.
// Throws only std::bad_alloc. `repo` is used from this thread only, for the duration of the call.
InfoReport collectInfoReport(Storage& repo, const InfoReportOptions& options);

// Text of `pgbackrest info --output=json`: compact JSON, keys sorted, no trailing newline.
std::string renderInfoReportJson(const InfoReport& report);
// The report as the JSON value pgBackRest builds (an array of stanza objects).
JsonValue infoReportJson(const InfoReport& report);

// Text of `pgbackrest info` (default output). Times are formatted in the local time zone (TZ).
std::string renderInfoReportText(const InfoReport& report);

// pgBackRest's size for humans: "512B", "1KB", "1.5KB", "29.2MB", "4.0MB", "2GB" (1024-based, one decimal unless
// the first decimal would be 0 when truncated).
std::string formatInfoSize(std::uint64_t bytes);

}  // namespace pgbr::backup
