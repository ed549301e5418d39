#include "backup/ini_document.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "backup/format_error.h"
#include "backup/json_value.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

template <typename Error = FormatError>
std::string parseError(const std::string& text) {
  try {
    IniDocument::parse(text);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// Guards the fixture list: every info file and manifest under plaintext/ and repo-plain/ is in it.
TEST(IniDocument, FixtureListIsComplete) {
  std::set<std::string> listed;
  for (const test::FormatFixture& fixture : test::formatFixtures()) listed.insert(fixture.path);
  std::set<std::string> found;
  for (const char* root : {"plaintext", "repo-plain"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(test::vectorsPath(root))) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file()) continue;
      if (name.rfind("archive.info", 0) == 0 || name.rfind("backup.info", 0) == 0 ||
          name.find(".manifest") != std::string::npos || name.rfind("backup.manifest", 0) == 0)
        found.insert(std::filesystem::relative(entry.path(), test::vectorsPath()).string());
    }
  }
  EXPECT_EQ(found, listed);
  EXPECT_EQ(listed.size(), 14u);
}

TEST(IniDocument, EveryFixtureRendersByteForByte) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    SCOPED_TRACE(fixture.path);
    const std::string text = test::fixtureText(fixture.path);
    const IniDocument document = IniDocument::parse(text);
    EXPECT_EQ(document.render(), text);
    // Every value is JSON pgBackRest wrote, so it also renders back unchanged through JsonValue.
    for (const IniDocument::Section& section : document.sections())
      for (const IniDocument::Entry& entry : section.entries) ASSERT_EQ(JsonValue::parse(entry.value).render(), entry.value);
  }
}

TEST(IniDocument, KeepsSectionsInFileOrderIncludingTheTrailingBackrest) {
  const IniDocument document = IniDocument::parse(test::fixtureText("repo-plain/archive/demo/archive.info"));
  std::vector<std::string> names;
  for (const IniDocument::Section& section : document.sections()) names.push_back(section.name);
  EXPECT_EQ(names, (std::vector<std::string>{"backrest", "db", "db:history", "backrest"}));
  ASSERT_NE(document.find("db", "db-system-id"), nullptr);
  EXPECT_EQ(*document.find("db", "db-system-id"), "7713086177070084308");
  EXPECT_EQ(*document.find("backrest", "backrest-checksum"), "\"864f9c305058367a1cce4176e7a78ff38ca6e1cb\"");
  EXPECT_EQ(*document.find("db:history", "1"), "{\"db-id\":7713086177070084308,\"db-version\":\"15\"}");
  EXPECT_EQ(document.find("db", "nope"), nullptr);
  EXPECT_TRUE(document.hasSection("db:history"));
  EXPECT_FALSE(document.hasSection("cipher"));
}

// FORMAT.md §4: keys are raw text and may contain '=', '"' and '\'; the split is at the first '=' after which
// the rest is valid JSON.
TEST(IniDocument, KeysMayContainEqualsQuoteAndBackslash) {
  const std::string text =
      "[target:file]\n"
      "pg_data/a=1={\"size\":1,\"timestamp\":2}\n"
      "pg_data/we=ird\"na\\me.txt={\"checksum\":\"a=b\",\"size\":3,\"timestamp\":4}\n"
      "x==\"=\"\n";
  const IniDocument document = IniDocument::parse(text);
  ASSERT_EQ(document.sections().size(), 1u);
  const auto& entries = document.sections()[0].entries;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "pg_data/a=1");
  EXPECT_EQ(entries[1].key, "pg_data/we=ird\"na\\me.txt");
  EXPECT_EQ(entries[1].value, "{\"checksum\":\"a=b\",\"size\":3,\"timestamp\":4}");
  EXPECT_EQ(entries[2].key, "x=");
  EXPECT_EQ(entries[2].value, "\"=\"");
  EXPECT_EQ(document.render(), text);

  IniDocument built;
  built.add("target:file", "pg_data/we=ird\"na\\me.txt", "{\"size\":3,\"timestamp\":4}");
  EXPECT_EQ(built.render(), "[target:file]\npg_data/we=ird\"na\\me.txt={\"size\":3,\"timestamp\":4}\n");
  EXPECT_EQ(IniDocument::parse(built.render()).sections(), built.sections());
}

TEST(IniDocument, SplitKeyValue) {
  using Split = std::pair<std::string_view, std::string_view>;
  EXPECT_EQ(IniDocument::splitKeyValue("a=1"), Split("a", "1"));
  EXPECT_EQ(IniDocument::splitKeyValue("a=b=1"), Split("a=b", "1"));
  EXPECT_EQ(IniDocument::splitKeyValue("=1"), Split("", "1"));
  EXPECT_EQ(IniDocument::splitKeyValue("a=x"), std::nullopt);
  EXPECT_EQ(IniDocument::splitKeyValue("a"), std::nullopt);
}

TEST(IniDocument, EmptyLinesAreIgnoredAndRenderIsCanonical) {
  const IniDocument document = IniDocument::parse("\n\n[a]\n\nk=1\n\n\n[b]\nj=true");
  EXPECT_EQ(document.render(), "[a]\nk=1\n\n[b]\nj=true\n");
  EXPECT_EQ(IniDocument::parse("").render(), "");
  EXPECT_TRUE(IniDocument::parse("\n\n").empty());
}

TEST(IniDocument, MalformedLinesNameLineAndReason) {
  EXPECT_EQ(parseError("k=1\n"), "key/value found outside of section at line 1: k=1");
  EXPECT_EQ(parseError("Salted__\x01\xff\n"), "key/value found outside of section at line 1: Salted__\\x01\\xff");
  EXPECT_EQ(parseError("[a]\n\nnovalue\n"), "missing '=' in key/value at line 3: novalue");
  EXPECT_EQ(parseError("[a]\n=1\n"), "key is zero-length at line 2: =1");
  EXPECT_EQ(parseError("[]\n"), "invalid empty section at line 1: []");
  EXPECT_EQ(parseError("[a]\nk=1\n[b]\nk=1\n[a]\nk=2\n"), "duplicate key 'k' in section 'a' at line 6: k=2");
  EXPECT_EQ(parseError<JsonFormatError>("[a]\nk=1 \n"),
            "invalid value at line 2: k=1  (invalid JSON at offset 1: unexpected ' ' after the value)");
  EXPECT_EQ(parseError<JsonFormatError>("[a]\nk={\"b\":1,\"a\":2}\n"),
            "invalid value at line 2: k={\"b\":1,\"a\":2} (invalid JSON at offset 7: key 'a' is out of order after "
            "'b' (keys must ascend in byte order))");
  EXPECT_EQ(parseError<JsonFormatError>("[a]\nk=\"x\"\r\n"),
            "invalid value at line 2: k=\"x\"\\x0d (invalid JSON at offset 3: unexpected '\\x0d' after the value)");
  // A long line is cut in the message.
  const std::string longLine = "x" + std::string(100, 'y');
  EXPECT_EQ(parseError(longLine), "key/value found outside of section at line 1: x" + std::string(79, 'y') + "...");
}

TEST(IniDocument, BuildingChecksEveryEntryReadsBack) {
  IniDocument document;
  document.add("db", "db-id", "1");
  EXPECT_THROW(document.add("db", "db-id", "2"), FormatError);          // duplicate
  EXPECT_THROW(document.add("db", "", "2"), FormatError);               // empty key
  EXPECT_THROW(document.add("db", "a\nb", "2"), FormatError);           // LF would split the line
  EXPECT_THROW(document.add("db", "k", "not json"), FormatError);       // value must be JSON
  EXPECT_THROW(document.add("db", "[k", "[1]"), FormatError);           // would read back as a section
  EXPECT_THROW(document.add("", "k", "1"), FormatError);                // empty section
  EXPECT_THROW(document.appendSection("a\nb"), FormatError);
  EXPECT_EQ(document.render(), "[db]\ndb-id=1\n");
}

TEST(IniDocument, InsertRemoveAndSortSections) {
  IniDocument document;
  document.add("db", "b", "2");
  document.add("backrest", "backrest-format", "5");
  document.add("db", "d", "4");  // second [db] section: the last one was [backrest]
  EXPECT_EQ(document.sections().size(), 3u);
  document.insertSorted("db", "a", "1");
  document.insertSorted("db", "c", "3");
  document.insertSorted("zz", "k", "true");
  EXPECT_EQ(document.render(), "[db]\na=1\nb=2\nc=3\n\n[backrest]\nbackrest-format=5\n\n[db]\nd=4\n\n[zz]\nk=true\n");
  document.sortSections();
  EXPECT_EQ(document.render(), "[backrest]\nbackrest-format=5\n\n[db]\na=1\nb=2\nc=3\nd=4\n\n[zz]\nk=true\n");
  EXPECT_TRUE(document.remove("zz", "k"));
  EXPECT_FALSE(document.remove("zz", "k"));
  EXPECT_FALSE(document.hasSection("zz"));
  document.add("zz", "k", "false");  // removed keys may come back
  EXPECT_EQ(*document.find("zz", "k"), "false");
}

}  // namespace
}  // namespace pgbr::backup
