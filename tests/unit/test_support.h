// Helpers shared by the unit tests: fixture paths, files, hex, running external commands, temp dirs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/bytes.h"

namespace pgbr::test {

// tests/fixtures/<relative>
std::filesystem::path fixturePath(const std::string& relative);
// The pgBackRest 2.45 vectors copied from the format fact sheet.
std::filesystem::path vectorsPath(const std::string& relative = "");
// A passphrase by name from tests/fixtures/pgbackrest-2.45/passphrases.txt ("repo", "repo-enc.archive", ...).
std::string vectorPassphrase(const std::string& name);

Bytes readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, ByteView data);
Bytes fromHex(const std::string& hex);
std::string toHex(ByteView data);
// Deterministic pseudo-random bytes, so failures reproduce.
Bytes patternBytes(std::size_t size, std::uint32_t seed);
// Inflates a gzip stream (test-only; the product's decompressors live in backup/).
Bytes gunzip(ByteView gz);

struct CommandResult {
  int exitCode;
  std::string output;  // stdout and stderr together
};
// Runs `command` through /bin/sh.
CommandResult runCommand(const std::string& command);

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace pgbr::test
