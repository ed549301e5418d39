#include "backup/info_file_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <stdexcept>
#include <vector>

#include "backup/format_error.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/crypto_error.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

const std::string kMain = "/repo/archive/demo/archive.info";
const std::string kCopy = kMain + ".copy";
constexpr const char* kArchiveInfo = "repo-plain/archive/demo/archive.info";

// A repository in memory: files, and paths whose read throws.
struct FakeRepo {
  std::map<std::string, std::string> files;
  std::map<std::string, std::function<void()>> failures;
  std::vector<std::string> reads;

  InfoFileReader reader() {
    return [this](const std::string& path) -> std::optional<std::string> {
      reads.push_back(path);
      if (auto failure = failures.find(path); failure != failures.end()) failure->second();
      auto file = files.find(path);
      if (file == files.end()) return std::nullopt;
      return file->second;
    };
  }
};

std::string good() { return test::fixtureText(kArchiveInfo); }
std::string badChecksum() { return test::replaceOnce(good(), "db-version=\"15\"\n", "db-version=\"16\"\n"); }
std::string garbage() { return "\x8f\x1a=q\x02\xfe\nzz["; }

const std::string kMissingMain = "FileMissingError: unable to open missing file '" + kMain + "' for read";
const std::string kMissingCopy = "FileMissingError: unable to open missing file '" + kCopy + "' for read";
const std::string kHeader = "unable to load info file '" + kMain + "' or '" + kCopy + "':";
const std::string kBadChecksum = "ChecksumError: invalid checksum in '" + kMain +
                                 "', actual '324c2427c5d6b5e8bf338785dfd3b1b98661e259' but expected "
                                 "'864f9c305058367a1cce4176e7a78ff38ca6e1cb'";

TEST(InfoFileLoader, MainIsUsedWhenGood) {
  FakeRepo repo;
  repo.files[kMain] = good();
  repo.files[kCopy] = garbage();
  const ArchiveInfo info = loadArchiveInfo(kMain, repo.reader());
  EXPECT_EQ(info.archiveId(), "15-1");
  EXPECT_EQ(repo.reads, (std::vector<std::string>{kMain}));
}

TEST(InfoFileLoader, MissingMainFallsBackToCopy) {
  FakeRepo repo;
  repo.files[kCopy] = good();
  EXPECT_EQ(loadArchiveInfo(kMain, repo.reader()).archiveId(), "15-1");
  EXPECT_EQ(repo.reads, (std::vector<std::string>{kMain, kCopy}));
}

TEST(InfoFileLoader, CorruptMainFallsBackToCopy) {
  for (const std::string& corrupt : {badChecksum(), garbage(), std::string(), good().substr(0, 100)}) {
    FakeRepo repo;
    repo.files[kMain] = corrupt;
    repo.files[kCopy] = good();
    EXPECT_EQ(loadArchiveInfo(kMain, repo.reader()).archiveId(), "15-1");
    EXPECT_EQ(repo.reads, (std::vector<std::string>{kMain, kCopy}));
  }
}

TEST(InfoFileLoader, ReadErrorOnMainFallsBackToCopy) {
  FakeRepo repo;
  repo.failures[kMain] = [] { throw crypto::badPaddingError(); };
  repo.files[kCopy] = good();
  EXPECT_EQ(loadArchiveInfo(kMain, repo.reader()).archiveId(), "15-1");
}

TEST(InfoFileLoader, BothMissing) {
  FakeRepo repo;
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const FileMissingError& error) {
    EXPECT_EQ(std::string(error.what()), kHeader + "\n" + kMissingMain + "\n" + kMissingCopy);
    EXPECT_EQ(error.hint(), "");
  }
}

TEST(InfoFileLoader, MissingThenCorruptReportsTheCorruption) {
  FakeRepo repo;
  repo.files[kCopy] = badChecksum();
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const ChecksumError& error) {
    const std::string badCopy = test::replaceOnce(kBadChecksum, "in '" + kMain + "'", "in '" + kCopy + "'");
    EXPECT_EQ(std::string(error.what()), kHeader + "\n" + kMissingMain + "\n" + badCopy);
  }
}

TEST(InfoFileLoader, CorruptThenMissingKeepsTheFirstKind) {
  FakeRepo repo;
  repo.files[kMain] = badChecksum();
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const ChecksumError& error) {
    EXPECT_EQ(std::string(error.what()), kHeader + "\n" + kBadChecksum + "\n" + kMissingCopy);
  }
}

// FORMAT.md §2: a wrong user passphrase decrypts info files to garbage.
TEST(InfoFileLoader, GarbageSuggestsTheWrongPassphrase) {
  FakeRepo repo;
  repo.files[kMain] = garbage();
  repo.files[kCopy] = garbage();
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const FormatError& error) {
    EXPECT_STREQ(error.kind(), "FormatError");
    const std::string line = "FormatError: key/value found outside of section at line 1: \\x8f\\x1a=q\\x02\\xfe";
    EXPECT_EQ(std::string(error.what()), kHeader + "\n" + line + "\n" + line);
    EXPECT_EQ(error.hint(), "the content is not an info file: is the repository cipher passphrase correct?");
    EXPECT_EQ(error.withHint(), kHeader + "\n" + line + "\n" + line +
                                    "\nHINT: the content is not an info file: is the repository cipher passphrase "
                                    "correct?");
  }
}

TEST(InfoFileLoader, DifferentKindsAndHintsAreAllReported) {
  FakeRepo repo;
  repo.files[kMain] = test::fixtureText("repo-enc/archive/demo/archive.info");  // not decrypted
  repo.failures[kCopy] = [] { throw crypto::badPaddingError(); };
  repo.files[kCopy] = good();
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const crypto::CryptoError& error) {
    EXPECT_EQ(error.kind(), crypto::CryptoErrorKind::BadPadding);
    const std::string message = error.what();
    const std::string firstLine = kHeader + "\nFormatError: key/value found outside of section at line 1: Salted__";
    EXPECT_EQ(message.substr(0, firstLine.size()), firstLine);
    EXPECT_EQ(message.substr(message.rfind('\n')),
              "\nCryptoError: unable to flush: bad padding in the last cipher block");
    EXPECT_EQ(error.hint(),
              "the file is still encrypted: is the repository cipher type and passphrase configured?\nHINT: is the "
              "passphrase correct? a wrong passphrase or a corrupt last block fails here");
  }
}

TEST(InfoFileLoader, OtherReadErrorsAreNamedFileReadError) {
  FakeRepo repo;
  repo.failures[kMain] = [] { throw std::runtime_error("unable to open file '/repo/archive/demo/archive.info': Permission denied"); };
  try {
    loadArchiveInfo(kMain, repo.reader());
    FAIL() << "no error";
  } catch (const FileMissingError&) {
    FAIL() << "not a missing file";
  } catch (const FormatError& error) {
    EXPECT_EQ(std::string(error.what()),
              kHeader + "\nFileReadError: unable to open file '/repo/archive/demo/archive.info': Permission denied\n" +
                  kMissingCopy);
  }
}

TEST(InfoFileLoader, ManifestsAndBackupInfo) {
  FakeRepo repo;
  const std::string manifestPath = "/repo/backup/demo/20261128-051348F/backup.manifest";
  repo.files[manifestPath + ".copy"] = test::fixtureText("repo-plain/backup/demo/20261128-051348F/backup.manifest");
  EXPECT_EQ(loadManifest(manifestPath, repo.reader()).backup.label, "20261128-051348F");
  try {
    loadManifest("/repo/backup/demo/x/backup.manifest", repo.reader());
    FAIL() << "no error";
  } catch (const FileMissingError& error) {
    const std::string header =
        "unable to load backup manifest file '/repo/backup/demo/x/backup.manifest' or "
        "'/repo/backup/demo/x/backup.manifest.copy':\n";
    EXPECT_EQ(std::string(error.what()).substr(0, header.size()), header);
  }
  repo.files["/repo/backup/demo/backup.info"] = test::fixtureText("repo-plain/backup/demo/backup.info");
  EXPECT_EQ(loadBackupInfo("/repo/backup/demo/backup.info", repo.reader()).backups.size(), 2u);
}

TEST(InfoFileLoader, GenericLoaderReturnsThePathThatWorked) {
  FakeRepo repo;
  repo.files[kCopy] = "anything";
  std::string seen;
  EXPECT_EQ(loadInfoFileWithFallback(kMain, repo.reader(),
                                     [&seen](std::string_view text, const std::string&) { seen = text; }),
            kCopy);
  EXPECT_EQ(seen, "anything");
}

// The real thing: encrypted files decrypted with the user passphrase (and a wrong one).
TEST(InfoFileLoader, EncryptedRepositoryFiles) {
  const auto decryptingReader = [](const std::string& passphrase) -> InfoFileReader {
    return [passphrase](const std::string& path) -> std::optional<std::string> {
      const auto file = test::vectorsPath(path);
      if (!std::filesystem::exists(file)) return std::nullopt;
      const Bytes plain = crypto::decryptBuffer(crypto::Secret(passphrase), test::readFile(file));
      return std::string(plain.begin(), plain.end());
    };
  };
  const BackupInfo info =
      loadBackupInfo("repo-enc/backup/demo/backup.info", decryptingReader(test::vectorPassphrase("repo")));
  ASSERT_EQ(info.backups.size(), 3u);
  EXPECT_EQ(info.render(), test::fixtureText("plaintext/repo-enc/backup/demo/backup.info"));
  const Manifest manifest =
      loadManifest("repo-enc/backup/demo/20261128-051344F/backup.manifest",
                   decryptingReader(std::string(info.header.cipherPass->reveal())));
  EXPECT_EQ(manifest.header.cipherPass->reveal(), test::vectorPassphrase("repo-enc.manifest.20261128-051344F"));

  try {
    loadArchiveInfo("repo-enc/archive/demo/archive.info", decryptingReader("wrong passphrase"));
    FAIL() << "no error";
  } catch (const crypto::CryptoError& error) {
    EXPECT_EQ(std::string(error.what()),
              "unable to load info file 'repo-enc/archive/demo/archive.info' or "
              "'repo-enc/archive/demo/archive.info.copy':\n"
              "CryptoError: unable to flush: bad padding in the last cipher block\n"
              "CryptoError: unable to flush: bad padding in the last cipher block");
    EXPECT_EQ(error.hint(), "is the passphrase correct? a wrong passphrase or a corrupt last block fails here");
  } catch (const FormatError& error) {
    // A wrong key passes the padding check about once in 256 passphrases; then the text is garbage.
    EXPECT_EQ(error.hint(), "the content is not an info file: is the repository cipher passphrase correct?");
  }
}

TEST(InfoFileLoader, SaveWritesMainThenCopy) {
  EXPECT_EQ(infoFileWriteOrder(kMain), (std::array<std::string, 2>{kMain, kCopy}));
}

}  // namespace
}  // namespace pgbr::backup
