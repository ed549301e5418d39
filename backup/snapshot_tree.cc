#include "backup/snapshot_tree.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>

#include "backup/format_error.h"

namespace pgbr::backup {

namespace {

constexpr std::string_view kPgData = "pg_data";
constexpr std::string_view kPgTblspc = "pg_tblspc";
constexpr std::string_view kTablespaceMap = "pg_data/tablespace_map";

// FNV-1a over label and path: stable across mounts, distinct in practice (cp -a only pairs up inodes of files
// with more than one link, and every entry here has one).
std::uint64_t inodeOf(const std::string& label, const std::string& path) {
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
  };
  mix(label);
  mix("/");
  mix(path);
  return hash < 2 ? hash + 2 : hash;
}

mode_t parseMode(const std::optional<std::string>& text, mode_t fallback, const std::string& name) {
  if (!text) return fallback;
  try {
    std::size_t used = 0;
    const unsigned long mode = std::stoul(*text, &used, 8);
    if (used == text->size() && mode <= 07777) return static_cast<mode_t>(mode);
  } catch (const std::exception&) {
  }
  throw FormatError("invalid mode '" + *text + "' of '" + name + "' in the backup manifest");
}

// User and group names to ids (getpwnam_r/getgrnam_r: the daemon builds trees from several threads).
class Owners {
 public:
  Owners(uid_t fallbackUid, gid_t fallbackGid) : fallbackUid_(fallbackUid), fallbackGid_(fallbackGid) {}

  uid_t uid(const std::optional<ManifestOwner>& user) {
    if (!user || !user->name) return fallbackUid_;
    auto [it, added] = users_.try_emplace(*user->name, fallbackUid_);
    if (added) {
      struct passwd entry {};
      struct passwd* found = nullptr;
      char buffer[4096];
      if (::getpwnam_r(it->first.c_str(), &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr)
        it->second = found->pw_uid;
    }
    return it->second;
  }
  gid_t gid(const std::optional<ManifestOwner>& group) {
    if (!group || !group->name) return fallbackGid_;
    auto [it, added] = groups_.try_emplace(*group->name, fallbackGid_);
    if (added) {
      struct group entry {};
      struct group* found = nullptr;
      char buffer[4096];
      if (::getgrnam_r(it->first.c_str(), &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr)
        it->second = found->gr_gid;
    }
    return it->second;
  }

 private:
  uid_t fallbackUid_;
  gid_t fallbackGid_;
  std::map<std::string, uid_t> users_;
  std::map<std::string, gid_t> groups_;
};

template <typename T>
const std::optional<T>& orDefault(const std::optional<T>& value, const std::optional<ManifestDefaults>& defaults,
                   std::optional<T> ManifestDefaults::*member) {
  static const std::optional<T> none;
  if (value) return value;
  return defaults ? (*defaults).*member : none;
}

std::string parentOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string nameOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::optional<std::string> snapshotPathOf(std::string_view name) {
  if (name == kPgData) return std::string();
  if (name.starts_with(kPgData) && name.size() > kPgData.size() + 1 && name[kPgData.size()] == '/')
    return std::string(name.substr(kPgData.size() + 1));
  if (name == kPgTblspc) return std::string(SnapshotTree::kTablespaceDir);
  if (name.starts_with(kPgTblspc) && name.size() > kPgTblspc.size() + 1 && name[kPgTblspc.size()] == '/')
    return std::string(SnapshotTree::kTablespaceDir) + std::string(name.substr(kPgTblspc.size()));
  return std::nullopt;
}

SnapshotTree::SnapshotTree(Manifest manifest, std::string stanza, uid_t fallbackUid, gid_t fallbackGid)
    : manifest_(std::move(manifest)), stanza_(std::move(stanza)) {
  Owners owners(fallbackUid, fallbackGid);
  const std::int64_t time = manifest_.backup.timestampStart;
  const mode_t pathMode =
      parseMode(manifest_.pathDefault ? manifest_.pathDefault->mode : std::nullopt, 0700, "[target:path:default]");
  const mode_t fileMode =
      parseMode(manifest_.fileDefault ? manifest_.fileDefault->mode : std::nullopt, 0600, "[target:file:default]");
  const ManifestPath* dataPath = nullptr;
  for (const ManifestPath& path : manifest_.paths)
    if (path.name == kPgData) dataPath = &path;

  SnapshotEntry root;
  root.mode = pathMode;
  root.uid = owners.uid(orDefault(dataPath ? dataPath->user : std::nullopt, manifest_.pathDefault, &ManifestDefaults::user));
  root.gid = owners.gid(orDefault(dataPath ? dataPath->group : std::nullopt, manifest_.pathDefault, &ManifestDefaults::group));
  root.mtime = time;
  root.inode = inodeOf(label(), "");
  entries_.emplace("", root);

  for (const ManifestPath& path : manifest_.paths) {
    const std::optional<std::string> at = snapshotPathOf(path.name);
    if (!at) continue;
    SnapshotEntry& entry = directory(*at);
    entry.mode = parseMode(path.mode, pathMode, path.name);
    entry.uid = owners.uid(orDefault(path.user, manifest_.pathDefault, &ManifestDefaults::user));
    entry.gid = owners.gid(orDefault(path.group, manifest_.pathDefault, &ManifestDefaults::group));
  }

  for (const ManifestFile& file : manifest_.files) {
    if (file.name == kTablespaceMap) continue;
    const std::optional<std::string> at = snapshotPathOf(file.name);
    if (!at || at->empty()) throw FormatError("backup manifest file '" + file.name + "' is outside every target");
    SnapshotEntry entry;
    entry.type = SnapshotEntry::Type::File;
    entry.mode = parseMode(file.mode, fileMode, file.name);
    entry.uid = owners.uid(orDefault(file.user, manifest_.fileDefault, &ManifestDefaults::user));
    entry.gid = owners.gid(orDefault(file.group, manifest_.fileDefault, &ManifestDefaults::group));
    entry.mtime = file.timestamp;
    entry.size = file.size;
    entry.file = &file;
    add(*at, std::move(entry));
  }

  // Tablespaces: pg_tblspc/<oid> -> ../pgbrfs_tblspc/<oid>, owned as the manifest's link says.
  for (const ManifestTarget& target : manifest_.targets) {
    if (!target.name.starts_with(std::string(kPgTblspc) + "/")) continue;
    const std::string linkName = std::string(kPgData) + "/" + target.name;
    const ManifestLink* link = nullptr;
    for (const ManifestLink& candidate : manifest_.links)
      if (candidate.name == linkName) link = &candidate;
    directory(*snapshotPathOf(target.name));
    SnapshotEntry entry;
    entry.type = SnapshotEntry::Type::Link;
    entry.mode = 0777;
    entry.uid = owners.uid(orDefault(link ? link->user : std::nullopt, manifest_.linkDefault, &ManifestDefaults::user));
    entry.gid = owners.gid(orDefault(link ? link->group : std::nullopt, manifest_.linkDefault, &ManifestDefaults::group));
    entry.mtime = time;
    entry.linkTarget = "../" + *snapshotPathOf(target.name);
    entry.size = entry.linkTarget.size();
    add(target.name, std::move(entry));
  }

  for (auto& [path, entry] : entries_) std::sort(entry.children.begin(), entry.children.end());
}

SnapshotEntry& SnapshotTree::directory(const std::string& path) {
  if (auto it = entries_.find(path); it != entries_.end()) {
    if (it->second.type != SnapshotEntry::Type::Directory)
      throw FormatError("backup manifest has both a file and a directory at '" + path + "'");
    return it->second;
  }
  SnapshotEntry entry;
  const SnapshotEntry& parent = directory(parentOf(path));
  entry.mode = parent.mode;
  entry.uid = parent.uid;
  entry.gid = parent.gid;
  entry.mtime = manifest_.backup.timestampStart;
  add(path, std::move(entry));
  return entries_.at(path);
}

void SnapshotTree::add(const std::string& path, SnapshotEntry entry) {
  SnapshotEntry& parent = directory(parentOf(path));
  entry.inode = inodeOf(label(), path);
  auto [it, added] = entries_.try_emplace(path, std::move(entry));
  if (!added) throw FormatError("backup manifest names '" + path + "' twice");
  parent.children.push_back(nameOf(path));
}

const SnapshotEntry* SnapshotTree::find(std::string_view path) const {
  const auto it = entries_.find(std::string(path));
  return it == entries_.end() ? nullptr : &it->second;
}

StoredBackupFile SnapshotTree::stored(const SnapshotEntry& entry) const {
  return storedBackupFile(manifest_, *entry.file, stanza_);
}

}  // namespace pgbr::backup
