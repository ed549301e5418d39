// The envelope every info file and manifest shares (FORMAT.md §4, §4.1, §5): `[backrest] backrest-format=5` and
// the trailing `[backrest] backrest-checksum`, a SHA-1 over a JSON rendering of every other key=value line in file
// order. Loading checks the format and the checksum; saving seals a document by (re)computing the checksum.
#pragma once

#include <string>

#include "backup/ini_document.h"

namespace pgbr::backup {

// The repository format this code reads and writes.
inline constexpr unsigned kRepositoryFormat = 5;

inline constexpr const char* kSectionBackrest = "backrest";
inline constexpr const char* kKeyChecksum = "backrest-checksum";
inline constexpr const char* kKeyFormat = "backrest-format";
inline constexpr const char* kKeyVersion = "backrest-version";

// The string the checksum is taken over (FORMAT.md §4.1): `{"<section>":{<json key>:<raw value>,...},...}`,
// one object per run of consecutive keys of the same section, `[backrest] backrest-checksum` left out.
std::string infoChecksumInput(const IniDocument& document);
// Lowercase hex SHA-1 of infoChecksumInput().
std::string infoChecksum(const IniDocument& document);

// Throws FormatError unless `[backrest] backrest-format` is 5:
// "invalid format in 'PATH', expected format 5 but found N". `path` only names the file in messages.
void checkInfoFormat(const IniDocument& document, const std::string& path);
// Throws ChecksumError unless the stored checksum equals the computed one:
// "invalid checksum in 'PATH', actual 'A' but expected 'B'" (A computed, B stored), or
// "invalid checksum in 'PATH', actual 'A' but no checksum found".
void verifyInfoChecksum(const IniDocument& document, const std::string& path);
// Both checks, format first (as pgBackRest meets the format key before the checksum).
void verifyInfoDocument(const IniDocument& document, const std::string& path);

// Removes any backrest-checksum and appends a final `[backrest]` section holding the checksum of the rest.
// Call after the document is otherwise complete and ordered.
void sealInfoDocument(IniDocument& document);

}  // namespace pgbr::backup
