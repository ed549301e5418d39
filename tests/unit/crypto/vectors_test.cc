// Every encrypted file written by pgBackRest 2.45 in the vectors decrypts, with the passphrase its path
// calls for (FORMAT.md §3), to the recorded plaintext (gunzipped for .gz files).
#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/cipher_block_decryptor.h"
#include "crypto/crypto_error.h"
#include "crypto/random_access_decryptor.h"
#include "unit/test_support.h"

namespace pgbr::crypto {
namespace {

namespace fs = std::filesystem;

// The passphrase name (passphrases.txt) for a repository-relative path, per the table in the vectors README.
std::string passNameFor(const std::string& repo, const std::string& relative) {
  const std::string file = fs::path(relative).filename();
  if (file.starts_with("archive.info") || file.starts_with("backup.info")) return "repo";
  if (relative.starts_with("archive/")) return repo + ".archive";
  if (file.starts_with("backup.manifest") || relative.find("/backup.history/") != std::string::npos)
    return repo + ".backup";
  // A file inside a backup directory: the manifest pass of its set, named by the full backup's label.
  const std::string label = fs::path(relative).begin()->string() == "backup"
                                ? std::next(std::next(fs::path(relative).begin()))->string()
                                : "";
  return repo + ".manifest." + label.substr(0, 16);
}

struct Sample {
  std::string repo;
  std::string relative;
};

std::vector<Sample> encryptedSamples() {
  std::vector<Sample> samples;
  for (const char* repo : {"repo-enc", "repo-none"}) {
    const fs::path root = test::vectorsPath(repo);
    for (const auto& entry : fs::recursive_directory_iterator(root))
      if (entry.is_regular_file()) samples.push_back({repo, fs::relative(entry.path(), root).string()});
  }
  return samples;
}

TEST(Vectors, EveryEncryptedFileDecryptsToItsPlaintext) {
  const std::vector<Sample> samples = encryptedSamples();
  ASSERT_EQ(samples.size(), 23u);  // every encrypted file of repo-enc and repo-none
  for (const Sample& sample : samples) {
    SCOPED_TRACE(sample.repo + "/" + sample.relative);
    const Secret pass(test::vectorPassphrase(passNameFor(sample.repo, sample.relative)));
    const Bytes cipher = test::readFile(test::vectorsPath(sample.repo + "/" + sample.relative));
    Bytes plain = decryptBuffer(pass, cipher);
    std::string plainRelative = sample.relative;
    if (plainRelative.ends_with(".gz")) {
      plain = test::gunzip(plain);
      plainRelative.resize(plainRelative.size() - 3);
    }
    EXPECT_EQ(plain, test::readFile(test::vectorsPath("plaintext/" + sample.repo + "/" + plainRelative)));
  }
}

TEST(Vectors, PlainSizeFromLastBlocksMatchesFullDecryption) {
  for (const Sample& sample : encryptedSamples()) {
    SCOPED_TRACE(sample.repo + "/" + sample.relative);
    const Secret pass(test::vectorPassphrase(passNameFor(sample.repo, sample.relative)));
    const Bytes cipher = test::readFile(test::vectorsPath(sample.repo + "/" + sample.relative));
    RandomAccessDecryptor reader(pass, cipher, cipher.size());
    auto readAt = [&](std::uint64_t offset, MutableByteView out) {
      std::copy_n(cipher.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    };
    EXPECT_EQ(reader.plainSize(readAt), decryptBuffer(pass, cipher).size());
  }
}

// A wrong passphrase on a real info file: the padding check must catch it (deterministic for this file).
TEST(Vectors, WrongPassphraseOnArchiveInfoFailsPadding) {
  const Bytes cipher = test::readFile(test::vectorsPath("repo-enc/archive/demo/archive.info"));
  try {
    decryptBuffer(Secret("not-the-passphrase"), cipher);
    FAIL() << "decryption with a wrong passphrase succeeded";
  } catch (const CryptoError& e) {
    EXPECT_EQ(e.kind(), CryptoErrorKind::BadPadding);
  }
}

}  // namespace
}  // namespace pgbr::crypto
