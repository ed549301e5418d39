#include "backup/key_resolver.h"

#include <vector>

#include "backup/backup_label.h"
#include "backup/info_file_loader.h"
#include "backup/wal_name.h"
#include "crypto/cipher_block_decryptor.h"

namespace pgbr::backup {

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string stripTempSuffix(const std::string& path) {
  const std::string suffix = kTempSuffix;
  return path.size() > suffix.size() && path.ends_with(suffix) ? path.substr(0, path.size() - suffix.size()) : path;
}

bool isInfoName(const std::string& name, const std::string& base) { return name == base || name == base + ".copy"; }

}  // namespace

bool KeyResolver::Signature::operator==(const Signature& other) const {
  auto same = [](const std::optional<StorageInfo>& a, const std::optional<StorageInfo>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->size == b->size && a->mtimeNs == b->mtimeNs && a->inode == b->inode);
  };
  return same(main, other.main) && same(copy, other.copy);
}

KeyResolver::KeyResolver(Storage& storage, crypto::CipherSpec repo, std::chrono::milliseconds recheckAfter)
    : storage_(storage), repo_(std::move(repo)), recheckAfter_(recheckAfter) {}

KeyRule KeyResolver::ruleFor(const std::string& rawPath) {
  const std::string path = stripTempSuffix(rawPath);
  const std::vector<std::string> p = split(path);
  if (p.size() < 3) return {};
  const std::string& stanza = p[1];
  if (p[0] == "archive") {
    if (p.size() == 3) return {};  // archive.info itself, or a stray file: the repository passphrase
    if (!parseArchiveId(p[2])) return {};
    return {KeyRule::Level::Archive, "archive/" + stanza + "/archive.info"};
  }
  if (p[0] == "backup") {
    if (p.size() == 3) return {};  // backup.info itself, the latest link, stray files
    if (p[2] == "backup.history") return {KeyRule::Level::Backup, "backup/" + stanza + "/backup.info"};
    if (!BackupLabel::isValid(p[2])) return {};
    if (p.size() == 4 && isInfoName(p[3], "backup.manifest"))
      return {KeyRule::Level::Backup, "backup/" + stanza + "/backup.info"};
    return {KeyRule::Level::Manifest, "backup/" + stanza + "/" + p[2] + "/backup.manifest"};
  }
  return {};
}

bool KeyResolver::isGoverningFile(const std::string& rawPath) {
  const std::vector<std::string> p = split(stripTempSuffix(rawPath));
  if (p.size() == 3 && p[0] == "archive") return isInfoName(p[2], "archive.info");
  if (p.size() == 3 && p[0] == "backup") return isInfoName(p[2], "backup.info");
  return p.size() == 4 && p[0] == "backup" && BackupLabel::isValid(p[2]) && isInfoName(p[3], "backup.manifest");
}

crypto::CipherSpec KeyResolver::keyFor(const std::string& path) {
  if (!repo_.encrypted()) return repo_;
  const KeyRule rule = ruleFor(path);
  if (rule.level == KeyRule::Level::Repo) return repo_;
  std::lock_guard lock(mutex_);
  return governingKey(rule);
}

// The key stored in `rule.governingFile` (the next level down the hierarchy). Caller holds mutex_.
crypto::CipherSpec KeyResolver::governingKey(const KeyRule& rule) {
  const auto now = std::chrono::steady_clock::now();
  if (auto it = cache_.find(rule.governingFile); it != cache_.end()) {
    if (now - it->second.checkedAt < recheckAfter_) return it->second.spec;
    if (signatureOf(rule.governingFile) == it->second.signature) {
      it->second.checkedAt = now;
      return it->second.spec;
    }
    cache_.erase(it);
  }
  // A manifest is decrypted with the backup sub-pass; info files with the repository passphrase.
  crypto::CipherSpec parent = repo_;
  if (rule.level == KeyRule::Level::Manifest) {
    const std::string stanza = split(rule.governingFile)[1];
    parent = governingKey({KeyRule::Level::Backup, "backup/" + stanza + "/backup.info"});
  }
  Signature signature = signatureOf(rule.governingFile);
  crypto::CipherSpec spec = load(rule, parent);
  cache_.insert_or_assign(rule.governingFile, Entry{spec, std::move(signature), now});
  return spec;
}

crypto::CipherSpec KeyResolver::load(const KeyRule& rule, const crypto::CipherSpec& parent) {
  InfoFileReader read = [this, &parent](const std::string& file) -> std::optional<std::string> {
    std::optional<Bytes> stored = storage_.get(file);
    if (!stored) return std::nullopt;
    Bytes plain = crypto::decryptBuffer(parent.pass(), *stored);
    std::string text(plain.begin(), plain.end());
    crypto::Secret::wipe(plain.data(), plain.size());
    return text;
  };
  std::optional<crypto::Secret> pass;
  try {
    switch (rule.level) {
      case KeyRule::Level::Archive:
        pass = std::move(loadArchiveInfo(rule.governingFile, read).header.cipherPass);
        break;
      case KeyRule::Level::Backup:
        pass = std::move(loadBackupInfo(rule.governingFile, read).header.cipherPass);
        break;
      case KeyRule::Level::Manifest:
        pass = std::move(loadManifest(rule.governingFile, read).header.cipherPass);
        break;
      case KeyRule::Level::Repo:
        return repo_;
    }
  } catch (const std::exception& e) {
    const std::string hint = rule.level == KeyRule::Level::Manifest
                                 ? "a backup's files are encrypted with the sub-pass in its backup.manifest (or .copy)"
                                 : "is the repository passphrase right? has the stanza been created?";
    throw KeyUnavailableError(e.what(), hint);
  }
  if (!pass || pass->empty())
    throw KeyUnavailableError("'" + rule.governingFile + "' has no [cipher] cipher-pass, but the repository is encrypted",
                              "pgBackRest requires sub-passphrases in an encrypted repository; the file was written "
                              "for an unencrypted one");
  return crypto::CipherSpec::aes256Cbc(std::move(*pass));
}

KeyResolver::Signature KeyResolver::signatureOf(const std::string& governingFile) {
  return Signature{storage_.info(governingFile), storage_.info(governingFile + ".copy")};
}

void KeyResolver::invalidate(const std::string& path) {
  if (!isGoverningFile(path)) return;
  const std::string stripped = stripTempSuffix(path);
  const std::string main = stripped.ends_with(".copy") ? stripped.substr(0, stripped.size() - 5) : stripped;
  std::lock_guard lock(mutex_);
  cache_.erase(main);
  // A new backup.info may carry a different backup sub-pass: drop the manifests that were read with the old one.
  if (main.ends_with("/backup.info")) {
    const std::string prefix = main.substr(0, main.size() - std::string("backup.info").size());
    for (auto it = cache_.begin(); it != cache_.end();)
      it = it->first.starts_with(prefix) ? cache_.erase(it) : std::next(it);
  }
}

}  // namespace pgbr::backup
