// PostgreSQL data page checksums (the algorithm of PostgreSQL's checksum_impl.h) and the page check pgBackRest runs
// while backing up a relation file (`checksum-page`, FORMAT.md §5.2): every full 8 KiB page that is not new and was
// not changed since the backup started (its LSN is below the start LSN; later pages may be torn and WAL replay
// fixes them) must carry a valid checksum. The failing pages become the manifest's checksum-page-error list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/json_value.h"
#include "crypto/bytes.h"

namespace pgbr::backup {

inline constexpr std::size_t kPgPageSize = 8192;
// Pages per segment file of a relation (RELSEG_SIZE for 1 GiB segments): block numbers continue across segments.
inline constexpr std::uint32_t kPgSegmentPages = 131072;

// The checksum PostgreSQL stores in pd_checksum for `page` (kPgPageSize bytes) at block `blockNo`.
std::uint16_t pgPageChecksum(const std::uint8_t* page, std::uint32_t blockNo);

// Whether manifest file `name` is a relation file whose pages pgBackRest checks: below a database directory
// (pg_data/base/<oid>, pg_data/global, pg_tblspc/<oid>/<version dir>/<oid>), except pg_filenode.map, PG_VERSION and
// global/pg_control.
bool isPageChecksummedFile(const std::string& name);

// The segment number of a relation file: 3 for "pg_data/base/1/16384.3", 0 without a suffix.
std::uint32_t relationSegmentNumber(const std::string& name);

// "0/2000028" -> 0x2000028. Throws std::invalid_argument for anything else.
std::uint64_t parseLsn(const std::string& text);

struct PageCheckResult {
  bool valid = true;            // no failing page and the file is made of whole pages (or a last partial one)
  bool aligned = true;          // the size is a multiple of the page size
  JsonValue::Array errors;      // failing block numbers, runs condensed to [first,last]
};

// Fed the bytes of one relation segment file in order, in chunks of any size.
class PageChecker {
 public:
  PageChecker(std::uint32_t segmentNo, std::uint64_t lsnLimit);
  void update(ByteView data);
  PageCheckResult finish();

 private:
  void checkPage(const std::uint8_t* page, std::size_t size);

  std::uint32_t nextBlock_;
  std::uint64_t lsnLimit_;
  std::vector<std::uint8_t> partial_;  // bytes of a page split across chunks
  std::vector<std::uint32_t> failed_;
  bool structureValid_ = true;
  bool aligned_ = true;
};

}  // namespace pgbr::backup
