// Reads the files real pgBackRest 2.45 wrote (tests/fixtures/pgbackrest-2.45, see its README) through the
// backup/ filters and read path, and checks them against the plaintext copies and the manifests' checksums.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/repo_filters.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/sha1.h"
#include "unit/backup/filter_test_util.h"
#include "unit/test_support.h"

namespace pgbr::backup {
namespace {

namespace fs = std::filesystem;

struct RepoFile {
  std::string repo;      // "repo-enc", "repo-none"
  std::string relative;  // path inside the repository
  std::string passName;  // key in passphrases.txt
  CompressType type;
  fs::path plaintext;
};

// Which passphrase encrypts a file (FORMAT.md §3): info files the user pass, archive/ the archive sub-pass,
// backup files the manifest sub-pass of their set, manifests and backup.history the backup sub-pass.
std::string passNameFor(const std::string& repo, const std::string& relative) {
  const std::string name = fs::path(relative).filename().string();
  if (name.starts_with("archive.info") || name.starts_with("backup.info")) return "repo";
  if (relative.starts_with("archive/")) return repo + ".archive";
  if (const std::size_t pgData = relative.find("/pg_data/"); pgData != std::string::npos) {
    const std::string label = fs::path(relative.substr(0, pgData)).filename().string();
    return repo + ".manifest." + label.substr(0, label.find('_'));
  }
  return repo + ".backup";
}

std::vector<RepoFile> fixtureFiles() {
  std::vector<RepoFile> files;
  for (const std::string repo : {"repo-enc", "repo-none"}) {
    const fs::path root = pgbr::test::vectorsPath(repo);
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      const std::string relative = fs::relative(entry.path(), root).string();
      const CompressType type = compressTypeFromName(relative);
      files.push_back({repo, relative, passNameFor(repo, relative), type,
                       pgbr::test::vectorsPath("plaintext/" + repo + "/" +
                                               std::string(stripCompressExtension(relative, type)))});
    }
  }
  return files;
}

crypto::CipherSpec specFor(const RepoFile& file) {
  return crypto::CipherSpec::aes256Cbc(crypto::Secret(pgbr::test::vectorPassphrase(file.passName)));
}

Bytes storedBytes(const RepoFile& file) {
  return pgbr::test::readFile(pgbr::test::vectorsPath(file.repo + "/" + file.relative));
}

TEST(RepoFixtures, AllFilesHavePlaintext) {
  const std::vector<RepoFile> files = fixtureFiles();
  EXPECT_GE(files.size(), 23u);
  int gz = 0;
  for (const RepoFile& file : files) {
    EXPECT_TRUE(fs::exists(file.plaintext)) << file.relative;
    if (file.type == CompressType::Gz) gz++;
  }
  EXPECT_GE(gz, 8);
}

// openssl enc -d, then gunzip: the two steps of FORMAT.md, one filter each.
TEST(RepoFixtures, DecryptThenDecompressMatchesPlaintext) {
  for (const RepoFile& file : fixtureFiles()) {
    Bytes plain = crypto::decryptBuffer(crypto::Secret(pgbr::test::vectorPassphrase(file.passName)), storedBytes(file));
    if (file.type != CompressType::None) plain = test::runFilter(newDecompressFilter(file.type), plain, 8192, 8192);
    EXPECT_EQ(plain, pgbr::test::readFile(file.plaintext)) << file.repo << "/" << file.relative;
  }
}

TEST(RepoFixtures, ReadPathMatchesPlaintextInBothModes) {
  for (const RepoFile& file : fixtureFiles()) {
    const Bytes stored = storedBytes(file);
    const Bytes expected = pgbr::test::readFile(file.plaintext);
    const std::string what = file.repo + "/" + file.relative;

    test::SpanSource source(stored, 10000);
    Pipeline pull(source, 4096);
    const RepoReadMeters pullMeters = addRepoReadFilters(pull, {file.type, specFor(file)});
    EXPECT_EQ(test::pullAll(pull, 65536), expected) << what;
    EXPECT_EQ(pullMeters.result().size, expected.size()) << what;
    EXPECT_EQ(pullMeters.result().checksum, crypto::Sha1::hexOf(expected)) << what;

    test::CountingSink sink;
    Pipeline push(sink, 100);
    const RepoReadMeters pushMeters = addRepoReadFilters(push, {file.type, specFor(file)});
    test::pushAll(push, stored, 999);
    EXPECT_LE(sink.largestWrite, 100u);
    EXPECT_EQ(pushMeters.result().size, expected.size()) << what;
    EXPECT_EQ(pushMeters.result().checksum, crypto::Sha1::hexOf(expected)) << what;
  }
}

// The WAL file's name carries the SHA-1 of its 16 MiB plain content (FORMAT.md §7).
TEST(RepoFixtures, WalChecksumMatchesItsName) {
  const std::string relative =
      "archive/demo/15-1/0000000100000000/000000010000000000000003-a9857f3e4a10e6faa1dc1476950a83d86b370060.gz";
  const Bytes stored = pgbr::test::readFile(pgbr::test::vectorsPath("repo-enc/" + relative));
  test::SpanSource source(stored);
  Pipeline read(source);
  const RepoReadMeters meters = addRepoReadFilters(
      read, {CompressType::Gz,
             crypto::CipherSpec::aes256Cbc(crypto::Secret(pgbr::test::vectorPassphrase("repo-enc.archive")))});
  Bytes buffer(65536);
  while (read.read(buffer) != 0) {
  }
  EXPECT_EQ(meters.result().size, 16u * 1024 * 1024);
  EXPECT_EQ(meters.result().checksum, "a9857f3e4a10e6faa1dc1476950a83d86b370060");
}

struct ManifestEntry {
  std::string file;  // "pg_data/base/1/112"
  std::string checksum;
  std::uint64_t size;
  std::string rck;
  std::uint64_t repoSize;
};

// A field of a flat JSON object as pgBackRest writes manifest values: "key":"text" or "key":digits.
std::optional<std::string> jsonField(std::string_view object, std::string_view key) {
  const std::string pattern = "\"" + std::string(key) + "\":";
  for (std::size_t at = object.find(pattern); at != std::string_view::npos; at = object.find(pattern, at + 1)) {
    if (at == 0 || (object[at - 1] != '{' && object[at - 1] != ',')) continue;  // "repo-size" is not "size"
    std::string_view value = object.substr(at + pattern.size());
    if (value.starts_with('"')) return std::string(value.substr(1, value.find('"', 1) - 1));
    return std::string(value.substr(0, value.find_first_of(",}")));
  }
  return std::nullopt;
}

// The pg_data/ lines of a manifest (FORMAT.md §5); only [target:file] entries have sizes.
std::vector<ManifestEntry> manifestEntries(const fs::path& manifest) {
  const Bytes bytes = pgbr::test::readFile(manifest);
  const std::string_view text = asText(bytes);
  std::vector<ManifestEntry> entries;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    const std::size_t equals = line.find("={");
    if (!line.starts_with("pg_data/") || equals == std::string_view::npos) continue;
    const std::string_view value = line.substr(equals + 1);
    const std::optional<std::string> size = jsonField(value, "size");
    if (!size) continue;
    const std::optional<std::string> repoSize = jsonField(value, "repo-size");
    entries.push_back({std::string(line.substr(0, equals)), jsonField(value, "checksum").value_or(crypto::Sha1::kEmptyHex),
                       std::stoull(*size), jsonField(value, "rck").value_or(""), std::stoull(repoSize.value_or(*size))});
  }
  return entries;
}

// Our read path's meters give the manifest's checksum and size; the stored bytes give rck and repo-size.
TEST(RepoFixtures, MetersMatchManifest) {
  int checked = 0;
  for (const RepoFile& file : fixtureFiles()) {
    const std::size_t pgData = file.relative.find("/pg_data/");
    if (pgData == std::string::npos) continue;
    const std::string label = file.relative.substr(0, pgData);
    const std::string manifestFile = std::string(stripCompressExtension(file.relative, file.type)).substr(pgData + 1);
    for (const ManifestEntry& entry :
         manifestEntries(pgbr::test::vectorsPath("plaintext/" + file.repo + "/" + label + "/backup.manifest"))) {
      if (entry.file != manifestFile) continue;
      const Bytes stored = storedBytes(file);
      EXPECT_EQ(crypto::Sha1::hexOf(stored), entry.rck) << file.relative;
      EXPECT_EQ(stored.size(), entry.repoSize) << file.relative;
      test::SpanSource source(stored);
      Pipeline read(source);
      const RepoReadMeters meters = addRepoReadFilters(read, {file.type, specFor(file)});
      test::pullAll(read, 4096);
      EXPECT_EQ(meters.result().checksum, entry.checksum) << file.relative;
      EXPECT_EQ(meters.result().size, entry.size) << file.relative;
      checked++;
    }
  }
  EXPECT_GE(checked, 8);
}

TEST(RepoFixtures, KnownManifestValues) {
  // README.md: pg_data/base/1/112: rck 79ee9f4e…, repo-size 112, checksum 9890dd22…, size 8192.
  const auto entries = manifestEntries(
      pgbr::test::vectorsPath("plaintext/repo-enc/backup/demo/20261128-051344F/backup.manifest"));
  bool found = false;
  for (const ManifestEntry& entry : entries) {
    if (entry.file != "pg_data/base/1/112") continue;
    found = true;
    EXPECT_TRUE(entry.rck.starts_with("79ee9f4e"));
    EXPECT_EQ(entry.repoSize, 112u);
    EXPECT_TRUE(entry.checksum.starts_with("9890dd22"));
    EXPECT_EQ(entry.size, 8192u);
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace pgbr::backup
