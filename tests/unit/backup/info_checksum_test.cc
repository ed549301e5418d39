#include "backup/info_checksum.h"

#include <gtest/gtest.h>

#include "backup/format_error.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

constexpr const char* kPlainArchiveInfo = "repo-plain/archive/demo/archive.info";
constexpr const char* kEncArchiveInfo = "plaintext/repo-enc/archive/demo/archive.info";

IniDocument fixtureDocument(const std::string& path) { return IniDocument::parse(test::fixtureText(path)); }

template <typename Error>
std::string errorOf(void (*check)(const IniDocument&, const std::string&), const IniDocument& document) {
  try {
    check(document, "/repo/archive/demo/archive.info");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// The worked example of FORMAT.md §4.1.
TEST(InfoChecksum, WorkedExampleReproduces) {
  const IniDocument plain = fixtureDocument(kPlainArchiveInfo);
  EXPECT_EQ(infoChecksumInput(plain),
            "{\"backrest\":{\"backrest-format\":5,\"backrest-version\":\"2.45\"},\"db\":{\"db-id\":1,"
            "\"db-system-id\":7713086177070084308,\"db-version\":\"15\"},\"db:history\":{\"1\":{\"db-id\":"
            "7713086177070084308,\"db-version\":\"15\"}}}");
  EXPECT_EQ(infoChecksum(plain), "864f9c305058367a1cce4176e7a78ff38ca6e1cb");

  const IniDocument encrypted = fixtureDocument(kEncArchiveInfo);
  EXPECT_NE(infoChecksumInput(encrypted).find(
                "\"backrest-version\":\"2.45\"},\"cipher\":{\"cipher-pass\":\"E55EUO3qvc98ooYdYO8rImjKoAy+79t7+fF6"
                "iRsWmBZwAogPVwdWLUQrwK/aRAMa\"},\"db\":{"),
            std::string::npos);
  EXPECT_EQ(infoChecksum(encrypted), "ff639c796fb0282f14d2a0f9a8c37e05902fd30a");
}

TEST(InfoChecksum, EveryFixtureVerifies) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    SCOPED_TRACE(fixture.path);
    const IniDocument document = fixtureDocument(fixture.path);
    EXPECT_NO_THROW(verifyInfoDocument(document, fixture.path));
  }
}

// Keys enter the checksum JSON-escaped; section names verbatim (FORMAT.md §4.1).
TEST(InfoChecksum, KeysAreJsonEscapedSectionsVerbatim) {
  IniDocument document;
  document.add("target:file", "pg_data/we=ird\"na\\me.txt", "{\"size\":0,\"timestamp\":1}");
  document.add("sec\"tion", "k", "1");
  EXPECT_EQ(infoChecksumInput(document),
            "{\"target:file\":{\"pg_data/we=ird\\\"na\\\\me.txt\":{\"size\":0,\"timestamp\":1}},\"sec\"tion\":{\"k\":1}}");
  EXPECT_EQ(infoChecksumInput(IniDocument()), "{}");
}

// Keys of the same section in consecutive runs form one object, whatever the section headers say.
TEST(InfoChecksum, RunsOfTheSameSectionMerge) {
  const IniDocument split = IniDocument::parse("[a]\nx=1\n\n[b]\n\n[a]\ny=2\n");
  EXPECT_EQ(infoChecksumInput(split), "{\"a\":{\"x\":1,\"y\":2}}");
  const IniDocument interleaved = IniDocument::parse("[a]\nx=1\n\n[b]\nz=3\n\n[a]\ny=2\n");
  EXPECT_EQ(infoChecksumInput(interleaved), "{\"a\":{\"x\":1},\"b\":{\"z\":3},\"a\":{\"y\":2}}");
}

TEST(InfoChecksum, MismatchNamesFileAndBothChecksums) {
  const std::string edited =
      test::replaceOnce(test::fixtureText(kPlainArchiveInfo), "db-version=\"15\"", "db-version=\"16\"");
  const IniDocument document = IniDocument::parse(edited);
  EXPECT_EQ(errorOf<ChecksumError>(verifyInfoChecksum, document),
            "invalid checksum in '/repo/archive/demo/archive.info', actual '" + infoChecksum(document) +
                "' but expected '864f9c305058367a1cce4176e7a78ff38ca6e1cb'");
  EXPECT_EQ(infoChecksum(document), "324c2427c5d6b5e8bf338785dfd3b1b98661e259");
  EXPECT_EQ(errorOf<ChecksumError>(verifyInfoDocument, document), errorOf<ChecksumError>(verifyInfoChecksum, document));
}

TEST(InfoChecksum, MissingOrMistypedChecksum) {
  IniDocument document = fixtureDocument(kPlainArchiveInfo);
  document.remove(kSectionBackrest, kKeyChecksum);
  EXPECT_EQ(errorOf<ChecksumError>(verifyInfoChecksum, document),
            "invalid checksum in '/repo/archive/demo/archive.info', actual '864f9c305058367a1cce4176e7a78ff38ca6e1cb' "
            "but no checksum found");
  document.add(kSectionBackrest, kKeyChecksum, "5");
  EXPECT_EQ(errorOf<ChecksumError>(verifyInfoChecksum, document),
            "invalid checksum in '/repo/archive/demo/archive.info', actual '864f9c305058367a1cce4176e7a78ff38ca6e1cb' "
            "but found 5 instead of a checksum");
}

TEST(InfoChecksum, FormatMustBeFive) {
  const std::string text = test::fixtureText(kPlainArchiveInfo);
  const IniDocument four = IniDocument::parse(test::replaceOnce(text, "backrest-format=5", "backrest-format=4"));
  EXPECT_EQ(errorOf<FormatError>(checkInfoFormat, four),
            "invalid format in '/repo/archive/demo/archive.info', expected format 5 but found 4");
  // The format is checked before the checksum, which is wrong too here.
  EXPECT_EQ(errorOf<FormatError>(verifyInfoDocument, four), errorOf<FormatError>(checkInfoFormat, four));
  const IniDocument text5 = IniDocument::parse(test::replaceOnce(text, "backrest-format=5", "backrest-format=\"5\""));
  EXPECT_EQ(errorOf<FormatError>(checkInfoFormat, text5),
            "invalid format in '/repo/archive/demo/archive.info', expected format 5 but found \"5\"");
  IniDocument missing = IniDocument::parse(text);
  missing.remove(kSectionBackrest, kKeyFormat);
  EXPECT_EQ(errorOf<FormatError>(checkInfoFormat, missing),
            "invalid format in '/repo/archive/demo/archive.info', expected format 5 but key 'backrest-format' is "
            "missing");
}

TEST(InfoChecksum, SealReproducesPgBackRestBytes) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    SCOPED_TRACE(fixture.path);
    const std::string text = test::fixtureText(fixture.path);
    IniDocument document = IniDocument::parse(text);
    document.remove(kSectionBackrest, kKeyChecksum);
    sealInfoDocument(document);
    EXPECT_EQ(document.render(), text);
    sealInfoDocument(document);  // sealing twice changes nothing
    EXPECT_EQ(document.render(), text);
  }
}

TEST(InfoChecksum, SealAddsATrailingSectionEvenAfterBackrest) {
  IniDocument document;
  document.add(kSectionBackrest, kKeyFormat, "5");
  sealInfoDocument(document);
  EXPECT_EQ(document.render(),
            "[backrest]\nbackrest-format=5\n\n[backrest]\nbackrest-checksum=\"" +
                infoChecksum(IniDocument::parse("[backrest]\nbackrest-format=5\n")) + "\"\n");
  EXPECT_NO_THROW(verifyInfoDocument(document, "x"));
}

}  // namespace
}  // namespace pgbr::backup
