// Shared setup of the archive tests: a real PostgreSQL 15 segment from the 2.45 vectors, the cluster it belongs
// to, and a plaintext repository in a temporary directory with a stanza for that cluster.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "backup/archive_info.h"
#include "backup/pg_control.h"
#include "backup/pgbackrest_error.h"
#include "backup/posix_storage.h"
#include "unit/test_support.h"

namespace pgbr::backup::test_archive {

inline constexpr const char* kSegment = "000000010000000000000003";
inline constexpr const char* kSegmentSha1 = "a9857f3e4a10e6faa1dc1476950a83d86b370060";
inline constexpr std::uint64_t kSystemId = 7713086177070084308u;

inline Bytes vectorSegment() {
  return test::readFile(test::vectorsPath("plaintext/repo-enc/archive/demo/15-1/0000000100000000/" +
                                          std::string(kSegment) + "-" + kSegmentSha1));
}

inline Bytes bytesOf(std::string_view text) {
  const ByteView view = asBytes(text);
  return Bytes(view.begin(), view.end());
}

// The code of the CommandError `body` throws (its message into `message`), or Unhandled when it throws none.
template <typename Body>
ErrorCode commandErrorOf(Body&& body, std::string* message = nullptr) {
  try {
    body();
  } catch (const CommandError& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::Unhandled;
}

inline PgControl vectorCluster() { return PgControl{"15", kSystemId, 1300, 202209061}; }

inline ArchiveInfo archiveInfoFor(std::uint64_t systemId = kSystemId, std::string version = "15") {
  ArchiveInfo info;
  info.dbId = 1;
  info.history.push_back(ArchiveHistoryEntry{1, systemId, std::move(version), {}});
  return info;
}

// A temporary repository root, a WAL directory beside it, and storage on the root.
struct ArchiveFixture {
  test::TempDir dir;
  std::filesystem::path repoRoot = dir / "repo";
  std::filesystem::path walDir = dir / "wal";
  PosixStorage storage{[this] {
    std::filesystem::create_directories(repoRoot);
    std::filesystem::create_directories(walDir);
    return repoRoot.string();
  }()};

  std::filesystem::path writeWal(const std::string& name, ByteView data) {
    test::writeFile(walDir / name, data);
    return walDir / name;
  }
  // Every file under the repository with its content, for "nothing changed" checks.
  std::map<std::string, Bytes> snapshot() const {
    std::map<std::string, Bytes> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(repoRoot))
      if (entry.is_regular_file())
        files[std::filesystem::relative(entry.path(), repoRoot).string()] = test::readFile(entry.path());
    return files;
  }
};

}  // namespace pgbr::backup::test_archive
