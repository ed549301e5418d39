#include "fs/mount_check.h"

#include <vector>

#include "backup/info_file_loader.h"
#include "crypto/cipher_block_decryptor.h"

namespace pgbr::fs {

namespace {

struct InfoFile {
  std::string path;  // main file, e.g. "archive/demo/archive.info"
  bool archive;
};

std::vector<InfoFile> infoFiles(backup::PosixStorage& storage) {
  std::vector<InfoFile> files;
  for (const char* kind : {"archive", "backup"}) {
    const std::optional<std::vector<std::string>> stanzas = storage.list(kind);
    if (!stanzas) continue;
    for (const std::string& stanza : *stanzas) {
      const std::string base = std::string(kind) + "/" + stanza + "/" + kind + ".info";
      if (storage.info(base) || storage.info(base + ".copy")) files.push_back({base, kind == std::string("archive")});
    }
  }
  return files;
}

bool looksEncrypted(const Bytes& data) { return data.size() >= 8 && asText(ByteView(data).first(8)) == "Salted__"; }

}  // namespace

MountCheck checkRepository(backup::PosixStorage& storage, const crypto::CipherSpec& spec) {
  MountCheck check;
  const std::vector<InfoFile> files = infoFiles(storage);
  int opened = 0;
  std::string firstFailure, firstFailurePath;
  for (const InfoFile& file : files) {
    check.infoFilesChecked++;
    std::optional<Bytes> sample = storage.get(file.path);
    if (!sample) sample = storage.get(file.path + ".copy");
    if (sample && looksEncrypted(*sample) && !spec.encrypted()) {
      check.code = kExitNoPassphrase;
      check.message = "repository file '" + file.path + "' is encrypted but no passphrase was given";
      check.hint = "set repo1-cipher-type=aes-256-cbc and repo1-cipher-pass in the pgBackRest config file, or use "
                   "-o passfile=FILE (see pgbrfs(8), PASSPHRASE)";
      return check;
    }
    if (sample && !looksEncrypted(*sample) && spec.encrypted()) {
      check.code = kExitNotEncrypted;
      check.message = "repository file '" + file.path + "' is not encrypted, but a passphrase was given";
      check.hint = "mount an unencrypted repository with -o cipher-type=none (or repo1-cipher-type=none)";
      return check;
    }
    backup::InfoFileReader read = [&](const std::string& path) -> std::optional<std::string> {
      std::optional<Bytes> stored = storage.get(path);
      if (!stored) return std::nullopt;
      Bytes plain = spec.encrypted() ? crypto::decryptBuffer(spec.pass(), *stored) : *stored;
      std::string text(plain.begin(), plain.end());
      crypto::Secret::wipe(plain.data(), plain.size());
      return text;
    };
    try {
      if (file.archive) {
        backup::loadArchiveInfo(file.path, read);
      } else {
        backup::loadBackupInfo(file.path, read);
      }
      opened++;
    } catch (const std::exception& e) {
      if (firstFailure.empty()) {
        firstFailure = e.what();
        firstFailurePath = file.path;
      }
    }
  }
  if (firstFailure.empty()) return check;
  if (opened == 0 && spec.encrypted()) {
    // Nothing opens: the passphrase is wrong (a wrong key turns every file into garbage alike).
    check.code = kExitWrongPassphrase;
    check.message = "the passphrase does not decrypt '" + firstFailurePath + "': " + firstFailure;
    check.hint = "check repo1-cipher-pass (or the passfile); it must be the passphrase pgBackRest was configured with";
  } else {
    check.code = kExitCorruptRepository;
    check.message = "unable to read '" + firstFailurePath + "': " + firstFailure;
    check.hint = opened > 0 ? "the passphrase opens other info files of this repository, so this one is damaged; "
                              "restore it from its .copy or a backup of the repository"
                            : "the info files are damaged; restore them from a backup of the repository";
  }
  return check;
}

}  // namespace pgbr::fs
