// The shared half of the typed models (archive.info, backup.info, backup.manifest): reading a verified document
// section by section while remembering what was not understood, and writing a document back in pgBackRest's
// layout with those unknown sections and keys merged in and the checksum sealed (FORMAT.md §4, §4.1, §5).
// Also the header every such file carries: the writer's version and the optional cipher sub-pass (§3).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backup/ini_document.h"
#include "backup/json_object_reader.h"
#include "backup/json_value.h"
#include "crypto/secret.h"

namespace pgbr::backup {

// backrest-version written into new files: the pgBackRest release whose format this code reproduces.
inline constexpr const char* kBackrestVersion = "2.45";
inline constexpr const char* kSectionCipher = "cipher";
inline constexpr const char* kKeyCipherPass = "cipher-pass";

struct InfoHeader {
  std::string backrestVersion = kBackrestVersion;  // informational; kept as loaded
  // The passphrase of the next level of the key hierarchy (FORMAT.md §3). Set it exactly when the repository is
  // encrypted: pgBackRest's verify breaks on a [cipher] in an unencrypted repository and crashes on a missing one
  // in an encrypted repository (FORMAT.md §11).
  std::optional<crypto::Secret> cipherPass;
};

// Used by one model load at a time; not thread-safe.
class InfoReader {
 public:
  // Checks `[backrest] backrest-format` and the checksum first (throws FormatError / ChecksumError naming `path`).
  // `document` must outlive the reader.
  InfoReader(const IniDocument& document, std::string path);

  // Reads and consumes [backrest] and [cipher].
  InfoHeader header();
  // Every key of the section (all its occurrences) as one object, consumed; empty if the section is absent.
  JsonObjectReader section(std::string_view name);
  // The entries of a section keyed by name (history ids, labels, file names) in file order, values parsed;
  // consumed.
  std::vector<std::pair<std::string, JsonValue>> entries(std::string_view name);
  bool hasSection(std::string_view name) const { return document_.hasSection(name); }
  // Hands the members `reader` did not consume back as unknown keys of `section`.
  void keepUnknown(std::string_view section, JsonObjectReader& reader);
  // Everything not consumed: whole unknown sections and unknown keys of known sections, in file order.
  IniDocument unknown() const;
  const std::string& path() const noexcept { return path_; }

 private:
  const IniDocument& document_;
  std::string path_;
  std::set<std::string, std::less<>> consumed_;
  IniDocument kept_;
};

// "section 'S', key 'K'": how errors name one entry of a keyed section.
std::string entryContext(std::string_view section, std::string_view key);
// A [db:history] key: a positive decimal id. Throws FormatError otherwise.
unsigned parseHistoryId(std::string_view key);

// Adds [backrest] backrest-format/backrest-version and, when set, [cipher] cipher-pass.
void writeInfoHeader(IniDocument& document, const InfoHeader& header);
// Merges `unknown` into `document` (keys into their sections in sorted position), orders the sections as
// pgBackRest does and appends the checksum section. The result renders to the bytes pgBackRest would write.
void finishInfoDocument(IniDocument& document, const IniDocument& unknown);

}  // namespace pgbr::backup
