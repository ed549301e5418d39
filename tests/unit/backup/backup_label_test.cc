#include "backup/backup_label.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

std::tm utc(std::time_t time) {
  std::tm result{};
  gmtime_r(&time, &result);
  return result;
}

constexpr std::time_t k20261128051344 = 1795842824;  // 2026-11-28 05:13:44 UTC

TEST(BackupLabel, ParsesTheThreeShapes) {
  const auto full = BackupLabel::parse("20261128-051344F");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->type(), BackupType::Full);
  EXPECT_EQ(full->fullLabel(), "20261128-051344F");
  EXPECT_EQ(full->year(), "2026");

  const auto diff = BackupLabel::parse("20261128-051344F_20261128-051356D");
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(diff->type(), BackupType::Diff);
  EXPECT_EQ(diff->fullLabel(), "20261128-051344F");
  EXPECT_EQ(diff->str(), "20261128-051344F_20261128-051356D");

  EXPECT_EQ(BackupLabel::parseOrThrow("20261128-051344F_20261128-051359I").type(), BackupType::Incr);
}

TEST(BackupLabel, RejectsEverythingElse) {
  for (const char* text : {"", "20261128-051344", "20261128-051344D", "20261128-051344I", "20261128_051344F",
                           "2026112-8051344F", "20261128-05134aF", "20261128-051344F_", "20261128-051344F_20261128-051356F",
                           "20261128-051344F-20261128-051356D", "20261128-051344F_20261128-051356DX",
                           "X20261128-051344F", "20261128-051344F.manifest.gz", "latest", "backup.history"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(BackupLabel::isValid(text));
  }
  try {
    BackupLabel::parseOrThrow("latest\n");
    FAIL() << "no error";
  } catch (const FormatError& error) {
    EXPECT_STREQ(error.what(), "invalid backup label 'latest\\x0a'");
  }
}

TEST(BackupLabel, TypeNames) {
  EXPECT_EQ(backupTypeName(BackupType::Full), "full");
  EXPECT_EQ(backupTypeName(BackupType::Diff), "diff");
  EXPECT_EQ(backupTypeName(BackupType::Incr), "incr");
  EXPECT_EQ(parseBackupType("incr"), BackupType::Incr);
  EXPECT_EQ(parseBackupType("Full"), std::nullopt);
}

TEST(BackupLabel, FormatsFromStartTime) {
  const BackupLabel full = BackupLabel::format(BackupType::Full, std::nullopt, utc(k20261128051344));
  EXPECT_EQ(full.str(), "20261128-051344F");
  // The prefix is always the full label of the set, even when the prior is an incr.
  const BackupLabel incr = BackupLabel::parseOrThrow("20261128-051344F_20261128-051359I");
  EXPECT_EQ(BackupLabel::format(BackupType::Incr, incr, utc(k20261128051344 + 100)).str(),
            "20261128-051344F_20261128-051524I");
  EXPECT_EQ(BackupLabel::format(BackupType::Diff, incr, utc(k20261128051344 + 100)).str(),
            "20261128-051344F_20261128-051524D");
  EXPECT_THROW(BackupLabel::format(BackupType::Diff, std::nullopt, utc(k20261128051344)), std::invalid_argument);
}

TEST(BackupLabel, NewLabelMustSortAfterExisting) {
  const std::vector<std::string> existing = {"20261128-051344F", "20261128-051344F_20261128-051359I",
                                             "20261128-051344F_20261128-051356D"};
  // Later than everything: the start time's label.
  EXPECT_EQ(BackupLabel::next(BackupType::Full, std::nullopt, k20261128051344 + 60, existing, utc)->str(),
            "20261128-051444F");
  // Same second as the newest existing label: one second later is used.
  const BackupLabel prior = BackupLabel::parseOrThrow("20261128-051344F_20261128-051359I");
  EXPECT_EQ(BackupLabel::next(BackupType::Incr, prior, k20261128051344 + 15, existing, utc)->str(),
            "20261128-051344F_20261128-051400I");
  // Even one second later is not later (clock went back): no label; the caller reports a clock error.
  EXPECT_FALSE(BackupLabel::next(BackupType::Full, std::nullopt, k20261128051344 - 3600, existing, utc).has_value());
  const std::vector<std::string> newerFull = {"20261128-051345F"};
  EXPECT_EQ(BackupLabel::next(BackupType::Full, std::nullopt, k20261128051344, newerFull, utc), std::nullopt);
  EXPECT_EQ(BackupLabel::next(BackupType::Full, std::nullopt, k20261128051344 + 1, newerFull, utc)->str(),
            "20261128-051346F");
  // Nothing yet.
  EXPECT_EQ(BackupLabel::next(BackupType::Full, std::nullopt, k20261128051344, {}, utc)->str(), "20261128-051344F");
}

TEST(BackupLabel, OrdersAsText) {
  EXPECT_LT(BackupLabel::parseOrThrow("20261128-051344F"), BackupLabel::parseOrThrow("20261128-051344F_20261128-051356D"));
  EXPECT_LT(BackupLabel::parseOrThrow("20261128-051344F_20261128-051359I"), BackupLabel::parseOrThrow("20261128-051400F"));
  EXPECT_NO_THROW(BackupLabel::localTime(k20261128051344));
}

}  // namespace
}  // namespace pgbr::backup
