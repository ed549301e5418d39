// The pgBackRest-written info files and manifests among the fixtures, as text, for the backup/ format tests.
#pragma once

#include <string>
#include <vector>

#include "unit/test_support.h"

namespace pgbr::test {

enum class FormatFixtureKind { ArchiveInfo, BackupInfo, Manifest };

struct FormatFixture {
  std::string path;  // relative to vectorsPath()
  FormatFixtureKind kind;
};

// Every decrypted info file and manifest (plaintext/ and repo-plain/), including .copy and backup.history copies.
inline const std::vector<FormatFixture>& formatFixtures() {
  static const std::vector<FormatFixture> fixtures = {
      {"plaintext/repo-enc/archive/demo/archive.info", FormatFixtureKind::ArchiveInfo},
      {"plaintext/repo-enc/archive/demo/archive.info.copy", FormatFixtureKind::ArchiveInfo},
      {"repo-plain/archive/demo/archive.info", FormatFixtureKind::ArchiveInfo},
      {"plaintext/repo-enc/backup/demo/backup.info", FormatFixtureKind::BackupInfo},
      {"plaintext/repo-enc/backup/demo/backup.info.copy", FormatFixtureKind::BackupInfo},
      {"plaintext/repo-none/backup/demo/backup.info", FormatFixtureKind::BackupInfo},
      {"repo-plain/backup/demo/backup.info", FormatFixtureKind::BackupInfo},
      {"plaintext/repo-enc/backup/demo/20261128-051344F/backup.manifest", FormatFixtureKind::Manifest},
      {"plaintext/repo-enc/backup/demo/20261128-051344F/backup.manifest.copy", FormatFixtureKind::Manifest},
      {"plaintext/repo-enc/backup/demo/20261128-051344F_20261128-051356D/backup.manifest", FormatFixtureKind::Manifest},
      {"plaintext/repo-enc/backup/demo/20261128-051344F_20261128-051359I/backup.manifest", FormatFixtureKind::Manifest},
      {"plaintext/repo-enc/backup/demo/backup.history/2026/20261128-051344F.manifest", FormatFixtureKind::Manifest},
      {"plaintext/repo-none/backup/demo/20261128-051352F/backup.manifest", FormatFixtureKind::Manifest},
      {"repo-plain/backup/demo/20261128-051348F/backup.manifest", FormatFixtureKind::Manifest},
  };
  return fixtures;
}

inline std::string fixtureText(const std::string& relative) {
  const Bytes bytes = readFile(vectorsPath(relative));
  return std::string(bytes.begin(), bytes.end());
}

// Replaces the one occurrence of `from` in `text` (fails the test if it does not occur exactly once).
std::string replaceOnce(std::string text, const std::string& from, const std::string& to);

// Recomputes backrest-checksum of an edited info file or manifest text.
std::string reseal(const std::string& text);

}  // namespace pgbr::test
