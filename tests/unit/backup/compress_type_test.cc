#include "backup/compress_type.h"

#include <gtest/gtest.h>

#include "backup/backup_error.h"

namespace pgbr::backup {
namespace {

TEST(CompressType, NamesExtensionsAndLevels) {
  const struct {
    CompressType type;
    const char* name;
    const char* extension;
    int levelDefault;
  } expected[] = {{CompressType::None, "none", "", 0},
                  {CompressType::Gz, "gz", ".gz", 6},
                  {CompressType::Bz2, "bz2", ".bz2", 9},
                  {CompressType::Lz4, "lz4", ".lz4", 1},
                  {CompressType::Zst, "zst", ".zst", 3}};
  for (const auto& entry : expected) {
    EXPECT_EQ(compressTypeName(entry.type), entry.name);
    EXPECT_EQ(compressExtension(entry.type), entry.extension);
    EXPECT_EQ(compressLevelDefault(entry.type), entry.levelDefault);
    EXPECT_EQ(parseCompressType(entry.name), entry.type);
    EXPECT_NO_THROW(checkCompressLevel(entry.type, entry.levelDefault));
  }
}

TEST(CompressType, LevelRanges) {
  EXPECT_EQ(compressLevelMin(CompressType::Gz), 0);
  EXPECT_EQ(compressLevelMax(CompressType::Gz), 9);
  EXPECT_EQ(compressLevelMin(CompressType::Bz2), 1);
  EXPECT_EQ(compressLevelMax(CompressType::Zst), 22);
  EXPECT_EQ(compressLevelMin(CompressType::Lz4), -5);
  try {
    checkCompressLevel(CompressType::Gz, 10);
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "compress-level 10 is out of range for compress type 'gz' (0..9)");
  }
}

TEST(CompressType, ParseUnknownAndXz) {
  EXPECT_EQ(parseCompressType("gzip"), std::nullopt);
  EXPECT_EQ(parseCompressType(""), std::nullopt);
  EXPECT_EQ(parseCompressType("GZ"), std::nullopt);
  try {
    parseCompressType("xz");
    FAIL();
  } catch (const UnsupportedError& error) {
    EXPECT_EQ(error.kind(), BackupErrorKind::Unsupported);
    EXPECT_STREQ(error.what(), "compress type 'xz' is not supported");
    EXPECT_FALSE(error.hint().empty());
  }
}

TEST(CompressType, FromFileName) {
  EXPECT_EQ(compressTypeFromName("pg_data/base/1/112.gz"), CompressType::Gz);
  EXPECT_EQ(compressTypeFromName("000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060.zst"),
            CompressType::Zst);
  EXPECT_EQ(compressTypeFromName("x.lz4"), CompressType::Lz4);
  EXPECT_EQ(compressTypeFromName("x.bz2"), CompressType::Bz2);
  EXPECT_EQ(compressTypeFromName("pg_data/PG_VERSION"), CompressType::None);
  EXPECT_EQ(compressTypeFromName("00000002.history"), CompressType::None);
  EXPECT_EQ(compressTypeFromName("file.gzip"), CompressType::None);
  EXPECT_EQ(compressTypeFromName("gz"), CompressType::None);
  EXPECT_THROW(compressTypeFromName("x.xz"), UnsupportedError);
}

TEST(CompressType, StripExtension) {
  EXPECT_EQ(stripCompressExtension("pg_data/base/1/112.gz", CompressType::Gz), "pg_data/base/1/112");
  EXPECT_EQ(stripCompressExtension("PG_VERSION", CompressType::None), "PG_VERSION");
  try {
    stripCompressExtension("pg_data/base/1/112", CompressType::Gz);
    FAIL();
  } catch (const FormatError& error) {
    EXPECT_STREQ(error.what(), "'pg_data/base/1/112' must have '.gz' extension");
  }
}

}  // namespace
}  // namespace pgbr::backup
