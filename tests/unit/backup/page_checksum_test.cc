// Page checksums against pages PostgreSQL 15 wrote with data checksums on (relation files of the pgBackRest 2.45
// vectors, whose manifests record checksum-page true for them), and the check's handling of damaged, new, torn and
// partial pages.
#include "backup/page_checksum.h"

#include <gtest/gtest.h>

#include <cstring>

#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

// Relation files of a PostgreSQL 15 cluster made with initdb -k, and one page from the pgBackRest vectors.
Bytes relation(const std::string& name) {
  if (name == "base/1/112")
    return test::readFile(test::vectorsPath("plaintext/repo-enc/backup/demo/20261128-051344F/pg_data/base/1/112"));
  return test::readFile(test::fixturePath("pg15-pages/" + name));
}

std::uint16_t storedChecksum(const std::uint8_t* page) {
  std::uint16_t value;
  std::memcpy(&value, page + 8, sizeof(value));
  return value;
}

TEST(PageChecksum, MatchesWhatPostgresStored) {
  int pages = 0;
  for (const std::string name : {"base/1/112", "pg_class", "pg_depend", "pg_class_fsm"}) {
    SCOPED_TRACE(name);
    const Bytes data = relation(name);
    ASSERT_EQ(data.size() % kPgPageSize, 0u);
    for (std::size_t block = 0; block * kPgPageSize < data.size(); ++block, ++pages) {
      const std::uint8_t* page = data.data() + block * kPgPageSize;
      EXPECT_EQ(pgPageChecksum(page, static_cast<std::uint32_t>(block)), storedChecksum(page)) << "block " << block;
    }
  }
  EXPECT_GE(pages, 30);
}

TEST(PageChecksum, TheBlockNumberIsPartOfTheChecksum) {
  const Bytes data = relation("base/1/112");
  EXPECT_NE(pgPageChecksum(data.data(), 0), pgPageChecksum(data.data(), 1));
}

TEST(PageChecker, ValidFileInAnyChunking) {
  Bytes data = relation("pg_class");
  ASSERT_GE(data.size(), 2 * kPgPageSize);
  for (const std::size_t chunk : {std::size_t{1000}, kPgPageSize, std::size_t{3 * 8192 + 17}, data.size()}) {
    PageChecker checker(0, UINT64_MAX);
    for (std::size_t off = 0; off < data.size(); off += chunk)
      checker.update(ByteView(data).subspan(off, std::min(chunk, data.size() - off)));
    const PageCheckResult result = checker.finish();
    EXPECT_TRUE(result.valid) << chunk;
    EXPECT_TRUE(result.aligned);
    EXPECT_TRUE(result.errors.empty());
  }
}

TEST(PageChecker, DamagedPagesAreListedAsRanges) {
  Bytes one = relation("pg_class");
  const std::size_t pages = one.size() / kPgPageSize;
  ASSERT_GE(pages, 1u);
  // Eight copies of the file as one file: blocks 0..8*pages-1, their checksums wrong except where block numbers match.
  Bytes data;
  for (int i = 0; i < 8; ++i) data.insert(data.end(), one.begin(), one.end());
  PageChecker checker(0, UINT64_MAX);
  checker.update(data);
  PageCheckResult result = checker.finish();
  EXPECT_FALSE(result.valid);
  // Block b fails unless b < pages (the original position), so the failures are one run [pages, 8*pages-1].
  ASSERT_EQ(result.errors.size(), 1u);
  ASSERT_TRUE(result.errors[0].isArray());
  EXPECT_EQ(result.errors[0].asArray()[0].asUInt64(), pages);
  EXPECT_EQ(result.errors[0].asArray()[1].asUInt64(), 8 * pages - 1);

  // One flipped byte in the middle of block 0.
  Bytes flipped = one;
  flipped[4000] ^= 0x01;
  PageChecker single(0, UINT64_MAX);
  single.update(flipped);
  result = single.finish();
  EXPECT_FALSE(result.valid);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].asUInt64(), 0u);
}

TEST(PageChecker, NewAndRecentlyChangedPagesAreNotChecked) {
  Bytes data = relation("pg_class");
  data.resize(kPgPageSize);
  data[4000] ^= 0x01;  // a wrong checksum ...
  std::uint64_t lsn = 0;
  std::uint32_t high, low;
  std::memcpy(&high, data.data(), 4);
  std::memcpy(&low, data.data() + 4, 4);
  lsn = static_cast<std::uint64_t>(high) << 32 | low;
  {
    PageChecker checker(0, lsn);  // ... on a page written at or after the backup start: may be torn, not an error
    checker.update(data);
    EXPECT_TRUE(checker.finish().valid);
  }
  {
    PageChecker checker(0, lsn + 1);
    checker.update(data);
    EXPECT_FALSE(checker.finish().valid);
  }
  Bytes fresh(kPgPageSize, 0);  // pd_upper 0: a new page
  fresh[100] = 7;
  PageChecker checker(0, UINT64_MAX);
  checker.update(fresh);
  EXPECT_TRUE(checker.finish().valid);
}

TEST(PageChecker, SegmentsContinueTheBlockNumbers) {
  const Bytes data = relation("base/1/112");
  PageChecker second(1, UINT64_MAX);  // as if the page were block 131072 of the relation
  second.update(ByteView(data).first(kPgPageSize));
  const PageCheckResult result = second.finish();
  EXPECT_FALSE(result.valid);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].asUInt64(), kPgSegmentPages);
}

TEST(PageChecker, PartialLastPage) {
  const Bytes data = relation("base/1/112");
  {
    PageChecker checker(0, UINT64_MAX);  // a torn last page of 4 KiB: counted, its checksum cannot match
    checker.update(ByteView(data).first(kPgPageSize / 2));
    const PageCheckResult result = checker.finish();
    EXPECT_FALSE(result.aligned);
    EXPECT_FALSE(result.valid);
    EXPECT_EQ(result.errors.size(), 1u);
  }
  {
    PageChecker checker(0, UINT64_MAX);  // under 512 bytes: not a relation file's shape, no page list
    checker.update(ByteView(data).first(100));
    const PageCheckResult result = checker.finish();
    EXPECT_FALSE(result.aligned);
    EXPECT_FALSE(result.valid);
    EXPECT_TRUE(result.errors.empty());
  }
}

TEST(PageChecksum, WhichFilesAreChecked) {
  EXPECT_TRUE(isPageChecksummedFile("pg_data/base/1/112"));
  EXPECT_TRUE(isPageChecksummedFile("pg_data/base/16384/16385_fsm"));
  EXPECT_TRUE(isPageChecksummedFile("pg_data/base/16384/16385.2"));
  EXPECT_TRUE(isPageChecksummedFile("pg_data/global/1260"));
  EXPECT_TRUE(isPageChecksummedFile("pg_tblspc/16390/PG_15_202209061/5/16391"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/global/pg_control"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/base/1/PG_VERSION"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/base/1/pg_filenode.map"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/postgresql.conf"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/pg_xact/0000"));
  EXPECT_FALSE(isPageChecksummedFile("pg_data/base/pgsql_tmp/x"));
  EXPECT_FALSE(isPageChecksummedFile("pg_tblspc/16390/PG_15_202209061/x/16391"));
  EXPECT_EQ(relationSegmentNumber("pg_data/base/1/16384.12"), 12u);
  EXPECT_EQ(relationSegmentNumber("pg_data/base/1/16384"), 0u);
  EXPECT_EQ(parseLsn("0/2000028"), 0x2000028u);
  EXPECT_EQ(parseLsn("1A/FF"), 0x1A000000FFu);
  EXPECT_THROW(parseLsn("2000028"), std::invalid_argument);
  EXPECT_THROW(parseLsn("0/x"), std::invalid_argument);
}

}  // namespace
}  // namespace pgbr::backup
