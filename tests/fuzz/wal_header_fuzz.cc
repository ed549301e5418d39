// The WAL long page header reader (backup/wal_header.h) that archive-push uses to refuse foreign WAL: any prefix
// of a segment is either parsed or refused with its documented std::runtime_error, and a parsed header is
// consistent with its magic.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "backup/wal_header.h"
#include "crypto/bytes.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const pgbr::backup::WalHeader header = pgbr::backup::readWalHeader(pgbr::ByteView(data, size), "fuzz");
    pgbr::fuzz::check(size >= pgbr::backup::kWalLongHeaderSize, "header parsed from a short buffer");
    const auto version = pgbr::backup::pgVersionForWalMagic(header.magic);
    pgbr::fuzz::check(version.has_value() && *version == header.pgVersion, "version does not match the magic");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
