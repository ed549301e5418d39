// backup/<stanza>/backup.info as a typed model (FORMAT.md §4, §4.3): the backups of the stanza with their sizes,
// WAL range, LSNs, times, options and dependencies ([backup:current]), the current and past PostgreSQL clusters
// ([db], [db:history]) and in encrypted repositories the backup sub-pass that encrypts manifests (§3). Loads from
// and saves to the decrypted plaintext; unknown sections, keys and JSON members are carried along.
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

// One [db:history] line of backup.info.
struct BackupHistoryEntry {
  unsigned id = 0;
  unsigned catalogVersion = 0;  // db-catalog-version, e.g. 202209061
  unsigned controlVersion = 0;  // db-control-version, e.g. 1300
  std::uint64_t systemId = 0;   // db-system-id
  std::string version;          // db-version, "15"
  JsonValue::Object unknown;
};

// One [backup:current] line: `<label>={...}`. Members are named after their keys without the `backup-`/
// `backup-info-` prefix; optional ones are absent in some backups (offline, full, older versions) and stay absent.
struct BackupInfoEntry {
  std::string label;
  unsigned backrestFormat = 5;                         // backrest-format
  std::string backrestVersion;                         // backrest-version
  std::optional<JsonValue::Object> annotation;         // backup-annotation: {"key":"value",...}
  std::optional<std::string> archiveStart;             // backup-archive-start (WAL segment name)
  std::optional<std::string> archiveStop;              // backup-archive-stop
  std::optional<bool> error;                           // backup-error: a page checksum error was found
  std::uint64_t repoSize = 0;                          // backup-info-repo-size: Σ repo-size (or size) of all files
  std::uint64_t repoSizeDelta = 0;                     // backup-info-repo-size-delta: same, files stored here
  std::optional<std::uint64_t> repoSizeMap;            // backup-info-repo-size-map (block incremental)
  std::optional<std::uint64_t> repoSizeMapDelta;       // backup-info-repo-size-map-delta (block incremental)
  std::uint64_t size = 0;                              // backup-info-size: Σ size of all files
  std::uint64_t sizeDelta = 0;                         // backup-info-size-delta: same, files stored here
  std::optional<std::string> lsnStart;                 // backup-lsn-start, "0/3000028"
  std::optional<std::string> lsnStop;                  // backup-lsn-stop
  std::optional<std::string> prior;                    // backup-prior (diff/incr)
  std::optional<std::vector<std::string>> reference;   // backup-reference (diff/incr): older labels it needs
  std::int64_t timestampStart = 0;                     // backup-timestamp-start (unix seconds)
  std::int64_t timestampStop = 0;                      // backup-timestamp-stop
  BackupType type = BackupType::Full;                  // backup-type
  unsigned dbId = 0;                                   // db-id: history id of the cluster backed up
  bool optionArchiveCheck = false;                     // option-archive-check
  bool optionArchiveCopy = false;                      // option-archive-copy
  std::optional<bool> optionBackupStandby;             // option-backup-standby
  std::optional<bool> optionChecksumPage;              // option-checksum-page
  bool optionCompress = false;                         // option-compress
  bool optionHardlink = false;                         // option-hardlink
  bool optionOnline = false;                           // option-online
  JsonValue::Object unknown;                           // members this code does not know
};

// Move-only (it holds the sub-pass as a crypto::Secret). Const access from several threads is safe; the public
// members are plain data that callers edit directly before render().
class BackupInfo {
 public:
  BackupInfo() = default;

  // Loads the plaintext of backup.info (or its .copy). Verifies format and checksum first. Throws FormatError,
  // JsonFormatError or ChecksumError; `path` names the file in messages.
  static BackupInfo parse(std::string_view plaintext, const std::string& path);
  static BackupInfo fromDocument(const IniDocument& document, const std::string& path);

  // The document pgBackRest would write: backups ordered by label, sections ordered, checksum sealed, unknown
  // content merged back. The text contains the backup sub-pass in clear: wipe it after encrypting.
  IniDocument toDocument() const;
  std::string render() const { return toDocument().render(); }

  // The history entry whose id is `dbId` ([db] is written from it). Throws FormatError if there is none.
  const BackupHistoryEntry& current() const;
  const BackupHistoryEntry* findHistory(unsigned id) const;
  const BackupInfoEntry* findBackup(std::string_view label) const;

  InfoHeader header;                        // [backrest] version, [cipher] cipher-pass (backup sub-pass)
  std::vector<BackupInfoEntry> backups;     // [backup:current]
  // [db] db-id: the id of the current history entry. The other [db] keys are that entry's values: pgBackRest
  // writes them from it and ignores them on load, and so does this model.
  unsigned dbId = 0;
  std::vector<BackupHistoryEntry> history;  // [db:history] in file order (oldest first)
  IniDocument unknown;                      // sections and keys this code does not know, kept for saving
};

}  // namespace pgbr::backup
