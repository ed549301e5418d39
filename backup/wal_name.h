// WAL file naming in the archive (FORMAT.md §1, §7): which names are segments, partial segments, timeline
// history files and backup history files; the <first16>/ directory; archived names "<segment>-<sha1>[.ext]";
// archive ids "<pg version>-<history id>". Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::backup {

enum class WalFileKind {
  Segment,        // 000000010000000000000003
  Partial,        // 000000010000000000000003.partial
  History,        // 00000002.history
  BackupHistory,  // 000000010000000000000003.00000028.backup
};

// The kind of a WAL file name as PostgreSQL hands it to archive_command, or nullopt for anything else.
std::optional<WalFileKind> walFileKind(std::string_view name);

// Segments, partials and backup history files live in "<archive id>/<first 16 hex>/"; history files directly
// in "<archive id>/". Returns "" for history files. Precondition: walFileKind(name) has a value.
std::string walArchiveDirectory(std::string_view name);

// Segments and partials are stored as "<name>-<sha1>[.ext]"; history and backup files keep their name.
bool walNameCarriesChecksum(WalFileKind kind);
bool walKindIsCompressed(WalFileKind kind);

// A segment or partial's name in the archive: "<name>-<sha1>" + extension (".gz", "" for none, ...).
std::string archivedWalName(std::string_view walName, std::string_view sha1Hex, std::string_view extension);

// The parts of an archived segment/partial file name.
struct ArchivedWalName {
  std::string walName;    // "000000010000000000000003" or "...003.partial"
  std::string sha1Hex;    // 40 lowercase hex
  std::string extension;  // "", ".gz", ".lz4", ".zst", ".xz", ".bz2"
};
// Parses "<segment>[.partial]-<sha1>[.ext]"; nullopt when the name does not match pgBackRest's pattern.
std::optional<ArchivedWalName> parseArchivedWalName(std::string_view fileName);

// Timeline of a segment, partial, history or backup file name (the first 8 hex digits).
std::uint32_t walTimeline(std::string_view name);

// "<pg version>-<history id>", e.g. "15-1", "9.6-3".
struct ArchiveId {
  std::string pgVersion;
  unsigned historyId;

  std::string str() const { return pgVersion + "-" + std::to_string(historyId); }
};
std::optional<ArchiveId> parseArchiveId(std::string_view text);

// The name of the segment that follows `segment` for a given segment size (16 MiB by default).
std::string nextWalSegment(std::string_view segment, std::uint32_t segmentSize = 16u << 20);

}  // namespace pgbr::backup
