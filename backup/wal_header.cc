#include "backup/wal_header.h"

#include <cstring>
#include <stdexcept>

namespace pgbr::backup {

namespace {

// XLP_LONG_HEADER flag in xlp_info: the first page of every segment carries the long header.
constexpr std::uint16_t kLongHeaderFlag = 0x0002;

template <typename T>
T readLittleEndian(ByteView data, std::size_t offset) {
  T value{};
  std::memcpy(&value, data.data() + offset, sizeof(T));  // WAL is written in the server's (little-endian) order
  return value;
}

struct MagicVersion {
  std::uint16_t magic;
  const char* version;
};

// XLOG_PAGE_MAGIC of each release (access/xlog_internal.h).
constexpr MagicVersion kMagics[] = {
    {0xD093, "9.6"}, {0xD097, "10"}, {0xD098, "11"}, {0xD101, "12"}, {0xD106, "13"},
    {0xD10D, "14"},  {0xD110, "15"}, {0xD113, "16"}, {0xD116, "17"}, {0xD118, "18"},
};

}  // namespace

std::optional<std::string> pgVersionForWalMagic(std::uint16_t magic) {
  for (const MagicVersion& m : kMagics)
    if (m.magic == magic) return std::string(m.version);
  return std::nullopt;
}

WalHeader readWalHeader(ByteView data, const std::string& fileName) {
  if (data.size() < kWalLongHeaderSize)
    throw std::runtime_error("WAL file '" + fileName + "' is too short for a WAL page header (" +
                             std::to_string(data.size()) + " bytes)");
  WalHeader header{};
  header.magic = readLittleEndian<std::uint16_t>(data, 0);
  const auto info = readLittleEndian<std::uint16_t>(data, 2);
  header.timeline = readLittleEndian<std::uint32_t>(data, 4);
  header.pageAddress = readLittleEndian<std::uint64_t>(data, 8);
  header.systemId = readLittleEndian<std::uint64_t>(data, 24);
  header.segmentSize = readLittleEndian<std::uint32_t>(data, 32);
  header.blockSize = readLittleEndian<std::uint32_t>(data, 36);
  const std::optional<std::string> version = pgVersionForWalMagic(header.magic);
  if (!version)
    throw std::runtime_error("WAL file '" + fileName + "' has an unknown page magic 0x" +
                             [&] {
                               char hex[8];
                               std::snprintf(hex, sizeof(hex), "%04X", header.magic);
                               return std::string(hex);
                             }() +
                             ": not a WAL segment, or from an unsupported PostgreSQL version");
  if ((info & kLongHeaderFlag) == 0)
    throw std::runtime_error("WAL file '" + fileName + "' does not start with a long page header");
  header.pgVersion = *version;
  return header;
}

}  // namespace pgbr::backup
