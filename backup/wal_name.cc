#include "backup/wal_name.h"

#include <cstdio>
#include <stdexcept>

namespace pgbr::backup {

namespace {

// WAL names use uppercase hex (PostgreSQL's %08X); pgBackRest's patterns are [0-F].
bool isUpperHex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return !text.empty();
}

bool isLowerHex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !text.empty();
}

bool startsWithSegment(std::string_view name) { return name.size() >= 24 && isUpperHex(name.substr(0, 24)); }

std::uint32_t hex32(std::string_view text) { return static_cast<std::uint32_t>(std::stoul(std::string(text), nullptr, 16)); }

constexpr std::string_view kExtensions[] = {".gz", ".lz4", ".zst", ".xz", ".bz2"};

}  // namespace

std::optional<WalFileKind> walFileKind(std::string_view name) {
  if (name.size() == 24 && isUpperHex(name)) return WalFileKind::Segment;
  if (name.size() == 32 && startsWithSegment(name) && name.substr(24) == ".partial") return WalFileKind::Partial;
  if (name.size() == 16 && isUpperHex(name.substr(0, 8)) && name.substr(8) == ".history") return WalFileKind::History;
  if (name.size() == 40 && startsWithSegment(name) && name[24] == '.' && isUpperHex(name.substr(25, 8)) &&
      name.substr(33) == ".backup")
    return WalFileKind::BackupHistory;
  return std::nullopt;
}

std::string walArchiveDirectory(std::string_view name) {
  return startsWithSegment(name) ? std::string(name.substr(0, 16)) : std::string();
}

bool walNameCarriesChecksum(WalFileKind kind) { return kind == WalFileKind::Segment || kind == WalFileKind::Partial; }

bool walKindIsCompressed(WalFileKind kind) { return walNameCarriesChecksum(kind); }

std::string archivedWalName(std::string_view walName, std::string_view sha1Hex, std::string_view extension) {
  return std::string(walName) + "-" + std::string(sha1Hex) + std::string(extension);
}

std::optional<ArchivedWalName> parseArchivedWalName(std::string_view fileName) {
  std::size_t nameSize = 24;
  if (!startsWithSegment(fileName)) return std::nullopt;
  if (fileName.substr(24).starts_with(".partial")) nameSize = 32;
  if (fileName.size() < nameSize + 41 || fileName[nameSize] != '-') return std::nullopt;
  const std::string_view sha1 = fileName.substr(nameSize + 1, 40);
  if (!isLowerHex(sha1)) return std::nullopt;
  const std::string_view extension = fileName.substr(nameSize + 41);
  if (!extension.empty()) {
    bool known = false;
    for (std::string_view e : kExtensions) known = known || extension == e;
    if (!known) return std::nullopt;
  }
  return ArchivedWalName{std::string(fileName.substr(0, nameSize)), std::string(sha1), std::string(extension)};
}

std::uint32_t walTimeline(std::string_view name) {
  if (name.size() < 8 || !isUpperHex(name.substr(0, 8)))
    throw std::invalid_argument("'" + std::string(name) + "' is not a WAL file name");
  return hex32(name.substr(0, 8));
}

std::optional<ArchiveId> parseArchiveId(std::string_view text) {
  // ^[0-9]+(\.[0-9]+)*-[0-9]+$
  const std::size_t dash = text.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
  const std::string_view version = text.substr(0, dash), id = text.substr(dash + 1);
  bool digitBefore = false;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      digitBefore = true;
    } else if (c == '.' && digitBefore) {
      digitBefore = false;
    } else {
      return std::nullopt;
    }
  }
  if (!digitBefore || id.size() > 9) return std::nullopt;
  for (char c : id)
    if (c < '0' || c > '9') return std::nullopt;
  return ArchiveId{std::string(version), static_cast<unsigned>(std::stoul(std::string(id)))};
}

std::string nextWalSegment(std::string_view segment, std::uint32_t segmentSize) {
  if (walFileKind(segment) != WalFileKind::Segment)
    throw std::invalid_argument("'" + std::string(segment) + "' is not a WAL segment name");
  const std::uint32_t timeline = hex32(segment.substr(0, 8));
  std::uint32_t high = hex32(segment.substr(8, 8));
  std::uint32_t low = hex32(segment.substr(16, 8));
  const std::uint32_t segmentsPerId = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / segmentSize);
  if (++low == segmentsPerId) {
    low = 0;
    high++;
  }
  char text[25];
  std::snprintf(text, sizeof(text), "%08X%08X%08X", timeline, high, low);
  return text;
}

}  // namespace pgbr::backup
