#include "fs/snapshot_view.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "backup/backup_file_stream.h"
#include "backup/backup_info.h"
#include "backup/info_file_loader.h"
#include "backup/stanza_info.h"
#include "crypto/cipher_block_decryptor.h"
#include "crypto/secret.h"
#include "fs/fs_error.h"
#include "fs/pgbrfs.h"

namespace pgbr::fs {

namespace {

using backup::SnapshotEntry;
using backup::SnapshotTree;

constexpr auto kRecheckAfter = std::chrono::seconds(1);

std::uint64_t hashInode(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ull ^ 0x5eedull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash < 2 ? hash + 2 : hash;
}

bool sameFile(const std::optional<backup::StorageInfo>& a, const std::optional<backup::StorageInfo>& b) {
  if (!a || !b) return !a && !b;
  return a->size == b->size && a->mtimeNs == b->mtimeNs && a->inode == b->inode;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

mode_t typeBits(SnapshotEntry::Type type) {
  switch (type) {
    case SnapshotEntry::Type::File: return S_IFREG;
    case SnapshotEntry::Type::Link: return S_IFLNK;
    case SnapshotEntry::Type::Directory: break;
  }
  return S_IFDIR;
}

// One open(2) of a snapshot file: its own decoder, so readers of one file do not disturb each other's streams.
class SnapshotFile final : public ViewFile {
 public:
  SnapshotFile(struct stat st, std::unique_ptr<backup::BackupFileReader> reader)
      : st_(st), reader_(std::move(reader)) {}

  struct stat attributes() override { return st_; }
  std::size_t read(std::uint64_t offset, MutableByteView out) override {
    if (!reader_) return 0;
    // The kernel may send read-ahead requests of one handle from several threads at once.
    std::lock_guard lock(mutex_);
    return reader_->read(offset, out);
  }
  bool immutable() const override { return true; }

 private:
  struct stat st_;
  std::mutex mutex_;
  std::unique_ptr<backup::BackupFileReader> reader_;  // null for an empty file
};

}  // namespace

SnapshotView::SnapshotView(PgbrFs& fs) : fs_(fs), started_(std::time(nullptr)) {
  struct stat st {};
  if (::fstat(fs_.backing().rootFd(), &st) == 0) {
    ownerUid_ = st.st_uid;
    ownerGid_ = st.st_gid;
  }
}

bool SnapshotView::serves(const std::string& path) const {
  return path == kTop || (path.size() > std::char_traits<char>::length(kTop) && path.starts_with(kTop) &&
                          path[std::char_traits<char>::length(kTop)] == '/');
}

SnapshotView::Place SnapshotView::parse(const std::string& path) {
  const std::vector<std::string> parts = split(path);
  Place place;
  place.depth = static_cast<int>(std::min<std::size_t>(parts.size(), 4));
  if (parts.size() > 1) place.stanza = parts[1];
  if (parts.size() > 2) place.label = parts[2];
  if (parts.size() > 3) {
    const std::size_t skip = parts[0].size() + parts[1].size() + parts[2].size() + 3;
    place.rest = path.substr(skip);
  }
  return place;
}

std::optional<std::string> SnapshotView::plaintext(const std::string& path) {
  std::optional<Bytes> stored = fs_.backing().get(path);
  if (!stored) return std::nullopt;
  if (!fs_.keys().encrypted()) return std::string(stored->begin(), stored->end());
  Bytes plain = crypto::decryptBuffer(fs_.keys().keyFor(path).pass(), *stored);
  std::string text(plain.begin(), plain.end());
  crypto::Secret::wipe(plain.data(), plain.size());
  return text;
}

bool SnapshotView::stanzaExists(const std::string& stanza) {
  if (stanza.empty() || stanza.front() == '.') return false;
  const std::optional<backup::StorageInfo> info = fs_.backing().info(backup::stanzaBackupPath(stanza));
  return info && info->type == backup::StorageInfo::Type::Path;
}

// The current backups of the stanza, reloaded when backup.info changed (checked at most once a second).
std::vector<std::string> SnapshotView::labels(const std::string& stanza) {
  const std::string infoPath = backup::backupInfoPath(stanza);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (auto it = stanzas_.find(stanza); it != stanzas_.end() && now - it->second.checkedAt < kRecheckAfter)
    return it->second.labels;
  if (!stanzaExists(stanza)) {
    stanzas_.erase(stanza);
    throw FsError(ENOENT, "no stanza '" + stanza + "' in the repository");
  }
  Stanza& state = stanzas_[stanza];
  std::optional<backup::StorageInfo> signature = fs_.backing().info(infoPath);
  if (!signature) signature = fs_.backing().info(infoPath + backup::kInfoCopyExtension);
  if (state.checkedAt.time_since_epoch().count() != 0 && sameFile(signature, state.signature)) {
    state.checkedAt = now;
    return state.labels;
  }
  std::vector<std::string> current;
  if (signature) {
    const backup::BackupInfo info =
        backup::loadBackupInfo(infoPath, [this](const std::string& p) { return plaintext(p); });
    for (const backup::BackupInfoEntry& entry : info.backups) current.push_back(entry.label);
  }
  std::sort(current.begin(), current.end());
  state.labels = std::move(current);
  state.signature = signature;
  state.checkedAt = now;
  // backup.info changed (a backup, an expire): manifests are loaded again when next asked for.
  std::erase_if(trees_, [&](const auto& cached) { return cached.first.starts_with(stanza + "/"); });
  return state.labels;
}

std::shared_ptr<const SnapshotTree> SnapshotView::tree(const std::string& stanza, const std::string& label) {
  const std::vector<std::string> current = labels(stanza);
  if (!std::binary_search(current.begin(), current.end(), label))
    throw FsError(ENOENT, "no backup '" + label + "' in stanza '" + stanza + "'");
  const std::string key = stanza + "/" + label;
  std::lock_guard lock(mutex_);
  for (auto it = trees_.begin(); it != trees_.end(); ++it)
    if (it->first == key) {
      trees_.splice(trees_.begin(), trees_, it);
      return trees_.front().second;
    }
  const std::string manifestPath = backup::stanzaBackupPath(stanza) + "/" + label + "/backup.manifest";
  backup::Manifest manifest =
      backup::loadManifest(manifestPath, [this](const std::string& p) { return plaintext(p); });
  auto loaded = std::make_shared<const SnapshotTree>(std::move(manifest), stanza, ownerUid_, ownerGid_);
  trees_.emplace_front(key, loaded);
  if (trees_.size() > kTreeCacheSize) trees_.pop_back();
  return loaded;
}

std::pair<std::shared_ptr<const SnapshotTree>, const SnapshotEntry*> SnapshotView::entry(const Place& place) {
  std::shared_ptr<const SnapshotTree> loaded = tree(place.stanza, place.label);
  const SnapshotEntry* found = loaded->find(place.rest);
  if (found == nullptr) throw FsError(ENOENT, "no '" + place.rest + "' in backup '" + place.label + "'");
  return {std::move(loaded), found};
}

struct stat SnapshotView::directoryStat(std::uint64_t inode) const {
  struct stat st {};
  st.st_mode = S_IFDIR | 0750;
  st.st_nlink = 2;
  st.st_uid = ownerUid_;
  st.st_gid = ownerGid_;
  st.st_ino = static_cast<ino_t>(inode);
  st.st_size = 4096;
  st.st_blksize = 4096;
  st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = started_;
  return st;
}

struct stat SnapshotView::entryStat(const SnapshotEntry& entry) const {
  struct stat st {};
  st.st_mode = typeBits(entry.type) | (entry.mode & 07777);
  st.st_nlink = entry.type == SnapshotEntry::Type::Directory ? 2 : 1;
  st.st_uid = entry.uid;
  st.st_gid = entry.gid;
  st.st_ino = static_cast<ino_t>(entry.inode);
  st.st_size = static_cast<off_t>(entry.type == SnapshotEntry::Type::Directory ? 4096 : entry.size);
  st.st_blksize = 128 * 1024;
  st.st_blocks = static_cast<blkcnt_t>((entry.size + 511) / 512);
  st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = static_cast<time_t>(entry.mtime);
  return st;
}

struct stat SnapshotView::getattr(const std::string& path) {
  const Place place = parse(path);
  if (place.depth == 1) return directoryStat(hashInode(path));
  if (place.depth == 2) {
    if (!stanzaExists(place.stanza)) throw FsError(ENOENT, "no stanza '" + place.stanza + "' in the repository");
    return directoryStat(hashInode(path));
  }
  if (place.depth == 3 && place.label == kLatest) {
    const std::vector<std::string> current = labels(place.stanza);
    if (current.empty()) throw FsError(ENOENT, "stanza '" + place.stanza + "' has no backup");
    struct stat st = directoryStat(hashInode(path));
    st.st_mode = S_IFLNK | 0777;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(current.back().size());
    return st;
  }
  return entryStat(*entry(place).second);
}

std::string SnapshotView::readlink(const std::string& path) {
  const Place place = parse(path);
  if (place.depth == 3 && place.label == kLatest) {
    const std::vector<std::string> current = labels(place.stanza);
    if (current.empty()) throw FsError(ENOENT, "stanza '" + place.stanza + "' has no backup");
    return current.back();
  }
  if (place.depth < 3) throw FsError(EINVAL, "'" + path + "' is not a link");
  const auto [loaded, found] = entry(place);
  if (found->type != SnapshotEntry::Type::Link) throw FsError(EINVAL, "'" + path + "' is not a link");
  return found->linkTarget;
}

std::vector<DirEntry> SnapshotView::readdir(const std::string& path) {
  const Place place = parse(path);
  std::vector<DirEntry> entries;
  if (place.depth == 1) {
    if (std::optional<std::vector<std::string>> names = fs_.backing().list("backup"))
      for (const std::string& name : *names)
        if (stanzaExists(name)) entries.push_back({name, S_IFDIR, hashInode(path + "/" + name)});
    return entries;
  }
  if (place.depth == 2) {
    const std::vector<std::string> current = labels(place.stanza);
    for (const std::string& label : current) entries.push_back({label, S_IFDIR, hashInode(path + "/" + label)});
    if (!current.empty()) entries.push_back({kLatest, S_IFLNK, hashInode(path + "/" + kLatest)});
    return entries;
  }
  if (place.label == kLatest) throw FsError(ENOTDIR, "'" + path + "' is a link");
  const auto [loaded, found] = entry(place);
  if (found->type != SnapshotEntry::Type::Directory) throw FsError(ENOTDIR, "'" + path + "' is not a directory");
  const std::string prefix = place.rest.empty() ? "" : place.rest + "/";
  for (const std::string& name : found->children) {
    const SnapshotEntry* child = loaded->find(prefix + name);
    entries.push_back({name, typeBits(child->type), static_cast<ino_t>(child->inode)});
  }
  return entries;
}

std::unique_ptr<ViewFile> SnapshotView::open(const std::string& path, int flags, Caller) {
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0)
    throw FsError(EROFS, "'" + path + "' is part of a read-only backup snapshot");
  const Place place = parse(path);
  if (place.depth < 4) throw FsError(EISDIR, "'" + path + "' is a directory");
  const auto [loaded, found] = entry(place);
  if (found->type == SnapshotEntry::Type::Directory) throw FsError(EISDIR, "'" + path + "' is a directory");
  const struct stat st = entryStat(*found);
  if (found->size == 0) return std::make_unique<SnapshotFile>(st, nullptr);
  backup::StoredBackupFile stored = loaded->stored(*found);
  crypto::CipherSpec cipher = fs_.keys().encrypted() ? fs_.keys().keyFor(stored.repoPath) : crypto::CipherSpec::none();
  return std::make_unique<SnapshotFile>(
      st, std::make_unique<backup::BackupFileReader>(fs_.backing(), std::move(stored), std::move(cipher)));
}

std::vector<DirEntry> SnapshotView::entriesIn(const std::string& dir) {
  if (!dir.empty()) return {};
  return {{kTop, S_IFDIR, hashInode(kTop)}};
}

}  // namespace pgbr::fs
