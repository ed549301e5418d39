#include "backup/backup_manifest_build.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "backup/page_checksum.h"
#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

namespace {

constexpr std::string_view kPgData = "pg_data", kPgTblspc = "pg_tblspc";

// Root files of PGDATA that are never backed up (PostgreSQL >= 12; FORMAT.md §8 step 4).
const std::set<std::string, std::less<>> kExcludedRootFiles = {
    "backup_label",     "backup_label.old",          "backup_manifest", "backup_manifest.tmp",
    "postmaster.opts",  "postgresql.auto.conf.tmp",  "postmaster.pid",  "recovery.signal",
    "standby.signal",
};
// Root directories of PGDATA whose contents are never backed up (the directory itself is recorded).
const std::set<std::string, std::less<>> kExcludedRootContents = {
    "pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans",
};

[[noreturn]] void failErrno(ErrorCode code, const std::string& what, const std::string& path, int error) {
  throw CommandError(code, what + " '" + path + "': [" + std::to_string(error) + "] " + std::strerror(error));
}

std::string modeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool allDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A relation file name "<relfilenode>[_fork][.segment]": the relfilenode and the fork ("" for the main fork);
// nullopt for anything else.
std::optional<std::pair<std::string, std::string>> relationFile(std::string_view name) {
  if (const std::size_t dot = name.find('.'); dot != std::string_view::npos) {
    if (!allDigits(name.substr(dot + 1))) return std::nullopt;
    name = name.substr(0, dot);
  }
  std::string fork;
  if (const std::size_t underscore = name.find('_'); underscore != std::string_view::npos) {
    fork = std::string(name.substr(underscore + 1));
    if (fork != "fsm" && fork != "vm" && fork != "init") return std::nullopt;
    name = name.substr(0, underscore);
  }
  if (!allDigits(name)) return std::nullopt;
  return std::make_pair(std::string(name), fork);
}

// "t<backend>_<relfilenode>[_fork][.segment]": a temporary relation.
bool isTempRelation(std::string_view name) {
  if (name.size() < 4 || name[0] != 't') return false;
  const std::size_t underscore = name.find('_');
  return underscore != std::string_view::npos && allDigits(name.substr(1, underscore - 1)) &&
         relationFile(name.substr(underscore + 1)).has_value();
}

class OwnerNames {
 public:
  ManifestOwner user(uid_t uid) {
    auto [it, added] = users_.try_emplace(uid);
    if (added) {
      struct passwd entry {}, *result = nullptr;
      char buffer[4096];
      if (::getpwuid_r(uid, &entry, buffer, sizeof(buffer), &result) == 0 && result) it->second.name = entry.pw_name;
    }
    return it->second;
  }
  ManifestOwner group(gid_t gid) {
    auto [it, added] = groups_.try_emplace(gid);
    if (added) {
      struct group entry {}, *result = nullptr;
      char buffer[4096];
      if (::getgrgid_r(gid, &entry, buffer, sizeof(buffer), &result) == 0 && result) it->second.name = entry.gr_name;
    }
    return it->second;
  }

 private:
  std::unordered_map<uid_t, ManifestOwner> users_;
  std::unordered_map<gid_t, ManifestOwner> groups_;
};

struct Entry {
  std::string name;
  struct stat st {};
};

class Builder {
 public:
  Builder(Manifest& manifest, const ManifestBuildOptions& options) : manifest_(manifest), options_(options) {}

  void build(const std::filesystem::path& pgPath) {
    struct stat root {};
    if (::stat(pgPath.c_str(), &root) != 0) {
      if (errno == ENOENT)
        throw CommandError(ErrorCode::PathMissing, "unable to list missing path '" + pgPath.string() + "'",
                           "is pg1-path the data directory of the cluster?");
      failErrno(ErrorCode::FileOpen, "unable to stat path", pgPath.string(), errno);
    }
    rootUser_ = owners_.user(root.st_uid);
    rootGroup_ = owners_.group(root.st_gid);
    fileMode_ = modeText(root.st_mode & 0640);
    pathMode_ = modeText(root.st_mode);
    manifest_.fileDefault = ManifestDefaults{rootGroup_, fileMode_, rootUser_};
    manifest_.pathDefault = ManifestDefaults{rootGroup_, pathMode_, rootUser_};
    manifest_.targets.push_back(ManifestTarget{std::string(kPgData), std::nullopt, pgPath.string(), std::nullopt,
                                               std::nullopt, "path", {}});
    addPath(std::string(kPgData), root);
    walk(pgPath, std::string(kPgData), "", Area::PgData);

    const auto byName = [](const auto& a, const auto& b) { return a.name < b.name; };
    std::sort(manifest_.files.begin(), manifest_.files.end(), byName);
    std::sort(manifest_.paths.begin(), manifest_.paths.end(), byName);
    std::sort(manifest_.links.begin(), manifest_.links.end(), byName);
    std::sort(manifest_.targets.begin(), manifest_.targets.end(), byName);
    if (!manifest_.links.empty()) manifest_.linkDefault = ManifestDefaults{rootGroup_, std::nullopt, rootUser_};
  }

 private:
  enum class Area { PgData, Tablespace };

  std::vector<Entry> list(const std::filesystem::path& directory) {
    DIR* dir = ::opendir(directory.c_str());
    if (!dir) {
      if (errno == ENOENT) return {};  // removed while the backup walks: nothing to back up
      failErrno(ErrorCode::FileOpen, "unable to open path for listing", directory.string(), errno);
    }
    std::vector<Entry> entries;
    while (const dirent* item = ::readdir(dir)) {
      const std::string name = item->d_name;
      if (name == "." || name == "..") continue;
      Entry entry{name, {}};
      if (::fstatat(::dirfd(dir), item->d_name, &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        const int error = errno;
        ::closedir(dir);
        failErrno(ErrorCode::FileOpen, "unable to get info for", (directory / name).string(), error);
      }
      entries.push_back(std::move(entry));
    }
    ::closedir(dir);
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return entries;
  }

  template <typename T>
  void setOwnerAndMode(T& item, const struct stat& st, const std::string& defaultMode) {
    if (ManifestOwner user = owners_.user(st.st_uid); !(user == rootUser_)) item.user = user;
    if (ManifestOwner group = owners_.group(st.st_gid); !(group == rootGroup_)) item.group = group;
    if (std::string mode = modeText(st.st_mode); mode != defaultMode) item.mode = mode;
  }

  void addPath(const std::string& name, const struct stat& st) {
    ManifestPath path;
    path.name = name;
    setOwnerAndMode(path, st, pathMode_);
    manifest_.paths.push_back(std::move(path));
  }

  void addFile(const std::string& name, const struct stat& st) {
    ManifestFile file;
    file.name = name;
    file.size = static_cast<std::uint64_t>(st.st_size);
    file.timestamp = st.st_mtim.tv_sec;
    if (options_.checksumPage && isPageChecksummedFile(name)) file.checksumPage = true;
    setOwnerAndMode(file, st, fileMode_);
    manifest_.files.push_back(std::move(file));
  }

  void addLink(const std::string& name, const std::string& destination, const struct stat& st) {
    ManifestLink link;
    link.name = name;
    link.destination = destination;
    if (ManifestOwner user = owners_.user(st.st_uid); !(user == rootUser_)) link.user = user;
    if (ManifestOwner group = owners_.group(st.st_gid); !(group == rootGroup_)) link.group = group;
    manifest_.links.push_back(std::move(link));
  }

  // --exclude: "dir/" matches what is below dir, "name" matches name and what is below it.
  bool excludedByOption(std::string_view relative, bool isDirectory) const {
    for (const std::string& exclude : options_.excludes) {
      if (exclude.empty()) continue;
      if (exclude.back() == '/') {
        if (relative.size() > exclude.size() && relative.starts_with(exclude)) return true;
        if (!isDirectory && relative == std::string_view(exclude).substr(0, exclude.size() - 1)) return true;
      } else if (relative == exclude || (relative.starts_with(exclude) && relative[exclude.size()] == '/')) {
        return true;
      }
    }
    return false;
  }

  static std::string readLink(const std::filesystem::path& path) {
    std::error_code error;
    const std::filesystem::path destination = std::filesystem::read_symlink(path, error);
    if (error)
      throw CommandError(ErrorCode::FileRead, "unable to read link '" + path.string() + "': " + error.message());
    return destination.string();
  }

  // `relative`: the path below PGDATA ("" for the root); `dbDirectory`: the directory holds relation files of
  // one database (base/<oid>, or <tablespace dir>/<oid>).
  void walk(const std::filesystem::path& directory, const std::string& name, const std::string& relative, Area area,
            bool dbDirectory = false) {
    const std::vector<Entry> entries = list(directory);
    std::set<std::string> unloggedRelations;
    if (dbDirectory)
      for (const Entry& entry : entries)
        if (const auto relation = relationFile(entry.name); relation && relation->second == "init")
          unloggedRelations.insert(relation->first);

    for (const Entry& entry : entries) {
      const std::string childName = name + "/" + entry.name;
      const std::string childRelative = relative.empty() ? entry.name : relative + "/" + entry.name;
      const std::filesystem::path childPath = directory / entry.name;
      const bool isDirectory = S_ISDIR(entry.st.st_mode);
      if (entry.name.starts_with("pgsql_tmp") || entry.name.starts_with("pg_internal.init")) continue;
      if (area == Area::PgData && excludedByOption(childRelative, isDirectory)) continue;
      if (area == Area::PgData && relative.empty() && kExcludedRootFiles.contains(entry.name) && !isDirectory) continue;
      if (dbDirectory && S_ISREG(entry.st.st_mode)) {
        if (isTempRelation(entry.name)) continue;
        if (const auto relation = relationFile(entry.name);
            relation && relation->second != "init" && unloggedRelations.contains(relation->first))
          continue;
      }

      if (S_ISREG(entry.st.st_mode)) {
        addFile(childName, entry.st);
      } else if (isDirectory) {
        addPath(childName, entry.st);
        if (area == Area::PgData && relative.empty() &&
            (kExcludedRootContents.contains(entry.name) ||
             (options_.online && (entry.name == "pg_wal" || entry.name == "pg_xlog"))))
          continue;
        const bool childIsDb = (area == Area::PgData && relative == "base") ||
                               (area == Area::Tablespace && relative.empty());
        walk(childPath, childName, childRelative, area, childIsDb && allDigits(entry.name));
      } else if (S_ISLNK(entry.st.st_mode)) {
        const std::string destination = readLink(childPath);
        if (area == Area::PgData && relative == "pg_tblspc" && allDigits(entry.name))
          addTablespace(entry.name, destination, childName, entry.st);
        else
          addOtherLink(childPath, childName, destination, entry.st, area);
      } else if (options_.warn) {
        options_.warn("exclude special file '" + childPath.string() + "' from backup");
      }
    }
  }

  void addTablespace(const std::string& oid, const std::string& destination, const std::string& linkName,
                     const struct stat& linkStat) {
    addLink(linkName, destination, linkStat);
    ManifestTarget target;
    target.name = std::string(kPgTblspc) + "/" + oid;
    target.path = destination;
    target.tablespaceId = oid;
    const auto named = options_.tablespaceNames.find(oid);
    target.tablespaceName = named != options_.tablespaceNames.end() ? named->second : "ts" + oid;
    target.type = "link";
    manifest_.targets.push_back(std::move(target));

    struct stat st {};
    if (::stat(destination.c_str(), &st) != 0) failErrno(ErrorCode::FileOpen, "unable to stat tablespace", destination, errno);
    if (!tablespaceRootAdded_) {
      addPath(std::string(kPgTblspc), st);
      tablespaceRootAdded_ = true;
    }
    const std::string targetName = std::string(kPgTblspc) + "/" + oid;
    addPath(targetName, st);
    // Only this version's directory belongs to the cluster; other versions share the location in upgrades.
    const std::string versionDirectory = "PG_" + options_.pgVersion + "_" + std::to_string(options_.catalogVersion);
    struct stat versionStat {};
    const std::filesystem::path versionPath = std::filesystem::path(destination) / versionDirectory;
    if (::lstat(versionPath.c_str(), &versionStat) != 0 || !S_ISDIR(versionStat.st_mode)) return;
    addPath(targetName + "/" + versionDirectory, versionStat);
    walk(versionPath, targetName + "/" + versionDirectory, "", Area::Tablespace);
  }

  // Links in PGDATA other than tablespaces: the destination is backed up under the link's name.
  void addOtherLink(const std::filesystem::path& linkPath, const std::string& name, const std::string& destination,
                    const struct stat& linkStat, Area area) {
    struct stat st {};
    if (area != Area::PgData || ::stat(linkPath.c_str(), &st) != 0) {
      if (options_.warn) options_.warn("exclude link '" + linkPath.string() + "' from backup: not supported here");
      return;
    }
    addLink(name, destination, linkStat);
    ManifestTarget target;
    target.name = name;
    target.type = "link";
    if (S_ISDIR(st.st_mode)) {
      target.path = destination;
      manifest_.targets.push_back(std::move(target));
      addPath(name, st);
      const std::string relative = name.substr(kPgData.size() + 1);
      walk(linkPath, name, relative, Area::PgData);
    } else if (S_ISREG(st.st_mode)) {
      const std::filesystem::path dest(destination);
      target.path = dest.parent_path().string();
      target.file = dest.filename().string();
      manifest_.targets.push_back(std::move(target));
      addFile(name, st);
    }
  }

  Manifest& manifest_;
  const ManifestBuildOptions& options_;
  OwnerNames owners_;
  ManifestOwner rootUser_, rootGroup_;
  std::string fileMode_, pathMode_;
  bool tablespaceRootAdded_ = false;
};

std::string timelineOf(const std::optional<std::string>& walName) {
  return walName && walName->size() >= 8 ? walName->substr(0, 8) : std::string();
}

}  // namespace

void buildManifestFromPgData(Manifest& manifest, const std::filesystem::path& pgPath,
                             const ManifestBuildOptions& options) {
  Builder(manifest, options).build(pgPath);
}

std::optional<std::string> deltaReason(const Manifest& manifest, const Manifest& prior, std::int64_t copyStart) {
  if (timelineOf(manifest.backup.archiveStart) != timelineOf(prior.backup.archiveStart))
    return "a timeline switch has occurred since the " + prior.backup.label + " backup, enabling delta checksum";
  if (manifest.options.online != prior.options.online)
    return "the online option has changed since the " + prior.backup.label + " backup, enabling delta checksum";
  for (const ManifestFile& file : manifest.files) {
    if (file.timestamp > copyStart)
      return "file '" + file.name + "' has timestamp in the future, enabling delta checksum";
    const ManifestFile* before = prior.findFile(file.name);
    if (!before) continue;
    if (file.timestamp < before->timestamp)
      return "file '" + file.name + "' has timestamp earlier than prior backup, enabling delta checksum";
    if (file.timestamp == before->timestamp && file.size != before->size)
      return "file '" + file.name + "' has same timestamp as prior but different size, enabling delta checksum";
  }
  return std::nullopt;
}

void referencePriorFile(ManifestFile& file, const ManifestFile& priorFile, const std::string& priorLabel) {
  file.checksum = priorFile.checksum;
  file.checksumPage = priorFile.checksumPage;
  file.checksumPageError = priorFile.checksumPageError;
  file.repoChecksum = priorFile.repoChecksum;
  file.repoSize = priorFile.repoSize;
  file.bundleId = priorFile.bundleId;
  file.bundleOffset = priorFile.bundleOffset;
  file.blockIncrSize = priorFile.blockIncrSize;
  file.blockIncrChecksum = priorFile.blockIncrChecksum;
  file.blockIncrMapSize = priorFile.blockIncrMapSize;
  file.reference = priorFile.reference.value_or(priorLabel);
}

std::vector<FileComparison> compareWithPrior(Manifest& manifest, const Manifest& prior, bool delta) {
  std::vector<FileComparison> result(manifest.files.size());
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    ManifestFile& file = manifest.files[i];
    const ManifestFile* before = prior.findFile(file.name);
    if (!before || before->size != file.size) continue;
    if (file.size == 0 || (!delta && before->timestamp == file.timestamp)) {
      referencePriorFile(file, *before, prior.backup.label);
      result[i].decision = FileDecision::Reference;
    } else if (delta) {
      result[i].decision = FileDecision::Checksum;
      result[i].priorChecksum = before->checksum.value_or("");
    }
  }
  return result;
}

bool copyLimitedToManifestSize(std::string_view name) {
  if (name.starts_with("pg_tblspc/")) return true;
  if (!name.starts_with("pg_data/")) return false;
  name.remove_prefix(8);
  if (name == "global/pg_control") return false;
  return name.starts_with("base/") || name.starts_with("global/") || name.starts_with("pg_xact/") ||
         name.starts_with("pg_multixact/");
}

}  // namespace pgbr::backup
