// Reads the long page header at the start of every WAL segment (PostgreSQL's XLogLongPageHeaderData), so that
// archive-push can refuse WAL from another cluster or another major version (FORMAT.md §7.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/bytes.h"

namespace pgbr::backup {

struct WalHeader {
  std::uint16_t magic;          // xlp_magic: identifies the WAL format, hence the PostgreSQL major version
  std::string pgVersion;        // "15", "9.6", ... from the magic
  std::uint32_t timeline;       // xlp_tli
  std::uint64_t pageAddress;    // xlp_pageaddr
  std::uint64_t systemId;       // xlp_sysid
  std::uint32_t segmentSize;    // xlp_seg_size
  std::uint32_t blockSize;      // xlp_xlog_blcksz
};

inline constexpr std::size_t kWalLongHeaderSize = 40;

// Parses the first kWalLongHeaderSize bytes of a segment. Throws FormatError-like std::runtime_error naming
// `fileName` when the data is too short, the page is not a long header, or the magic is unknown.
WalHeader readWalHeader(ByteView firstBytes, const std::string& fileName);

// The PostgreSQL major version for a WAL page magic, or nullopt for an unknown magic.
std::optional<std::string> pgVersionForWalMagic(std::uint16_t magic);

}  // namespace pgbr::backup
