// archive/<stanza>/archive.info as a typed model (FORMAT.md §4, §4.2): the current PostgreSQL cluster of the stanza,
// the history of clusters it has archived WAL for (one archive id `<version>-<id>` each), and in encrypted
// repositories the archive sub-pass that encrypts every WAL file (§3). Loads from and saves to the decrypted
// plaintext; what this code does not know (sections, keys, JSON members) is carried along and written back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/info_reader.h"
#include "backup/ini_document.h"
#include "backup/json_value.h"

namespace pgbr::backup {

// One [db:history] line: `<id>={"db-id":<system id>,"db-version":"15"}`. pgBackRest stores the system identifier
// under "db-id" here (a historical typo, FORMAT.md §4.2); this struct names it for what it is.
struct ArchiveHistoryEntry {
  unsigned id = 0;
  std::uint64_t systemId = 0;
  std::string version;  // "15", "9.6"
  JsonValue::Object unknown;

  // `<version>-<id>`, the directory under archive/<stanza>/ (e.g. "15-1").
  std::string archiveId() const;
};

// Move-only (it holds the sub-pass as a crypto::Secret). Const access from several threads is safe; the public
// members are plain data that callers edit directly before render().
class ArchiveInfo {
 public:
  ArchiveInfo() = default;

  // Loads the plaintext of archive.info (or its .copy). Verifies format and checksum first. Throws FormatError,
  // JsonFormatError or ChecksumError; `path` names the file in messages.
  static ArchiveInfo parse(std::string_view plaintext, const std::string& path);
  static ArchiveInfo fromDocument(const IniDocument& document, const std::string& path);

  // The document pgBackRest would write for this content: sections in order, checksum sealed. Unknown content
  // loaded earlier is merged back in. The text contains the archive sub-pass in clear: wipe it after encrypting.
  IniDocument toDocument() const;
  std::string render() const { return toDocument().render(); }

  // The history entry whose id is `dbId`. Throws FormatError if there is none.
  const ArchiveHistoryEntry& current() const;
  // The history entry with this id, or nullptr.
  const ArchiveHistoryEntry* findHistory(unsigned id) const;
  // Archive id of the current entry (where archive-push writes), e.g. "15-1".
  std::string archiveId() const { return current().archiveId(); }

  InfoHeader header;                         // [backrest] version, [cipher] cipher-pass (archive sub-pass)
  // [db] db-id: the id of the current history entry. [db] db-system-id and db-version are that entry's values:
  // pgBackRest writes them from it and ignores them on load, and so does this model (see current()).
  unsigned dbId = 0;
  std::vector<ArchiveHistoryEntry> history;  // [db:history] in file order (oldest first, as pgBackRest writes)
  IniDocument unknown;                       // sections and keys this code does not know, kept for saving
};

}  // namespace pgbr::backup
