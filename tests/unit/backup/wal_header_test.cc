#include "backup/wal_header.h"

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

// The first page of a real PostgreSQL 15 segment archived by pgBackRest 2.45 (cluster of the vectors).
TEST(WalHeader, ReadsTheVectorSegment) {
  const Bytes wal = test::readFile(test::vectorsPath(
      "plaintext/repo-enc/archive/demo/15-1/0000000100000000/"
      "000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060"));
  const WalHeader header = readWalHeader(wal, "000000010000000000000003");
  EXPECT_EQ(header.magic, 0xD110);
  EXPECT_EQ(header.pgVersion, "15");
  EXPECT_EQ(header.timeline, 1u);
  EXPECT_EQ(header.pageAddress, 0x3000000u);
  EXPECT_EQ(header.systemId, 7713086177070084308u);
  EXPECT_EQ(header.segmentSize, 16u << 20);
  EXPECT_EQ(header.blockSize, 8192u);
}

TEST(WalHeader, RejectsShortAndForeignData) {
  const Bytes wal = test::readFile(test::vectorsPath(
      "plaintext/repo-enc/archive/demo/15-1/0000000100000000/"
      "000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060"));
  try {
    readWalHeader(ByteView(wal).first(20), "X");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "WAL file 'X' is too short for a WAL page header (20 bytes)");
  }
  Bytes foreign(wal.begin(), wal.begin() + 64);
  foreign[0] = 0x34;
  foreign[1] = 0x12;
  try {
    readWalHeader(foreign, "X");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "WAL file 'X' has an unknown page magic 0x1234: not a WAL segment, or from an unsupported "
                 "PostgreSQL version");
  }
  Bytes shortHeader(wal.begin(), wal.begin() + 64);
  shortHeader[2] = 0;  // clear XLP_LONG_HEADER
  EXPECT_THROW(readWalHeader(shortHeader, "X"), std::runtime_error);
  EXPECT_EQ(pgVersionForWalMagic(0xD106), "13");
}

}  // namespace
}  // namespace pgbr::backup
