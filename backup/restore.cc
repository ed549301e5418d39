#include "backup/restore.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "backup/backup_file_stream.h"
#include "backup/snapshot_tree.h"
#include "backup/compress_filter.h"
#include "backup/compress_type.h"
#include "backup/format_error.h"
#include "backup/info_file_loader.h"
#include "backup/info_report.h"
#include "backup/meter.h"
#include "backup/pgbackrest_error.h"
#include "backup/pipeline.h"
#include "backup/stanza_info.h"
#include "backup/unique_fd.h"

namespace pgbr::backup {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPgData = "pg_data";
constexpr std::string_view kPgControl = "pg_data/global/pg_control";
// Not restored, as pgBackRest does not: the restore creates the tablespace links itself (possibly remapped), and
// PostgreSQL would otherwise recreate them from this file with the paths of the backed-up cluster.
constexpr std::string_view kTablespaceMap = "pg_data/tablespace_map";

std::string errnoText() { return "[" + std::to_string(errno) + "] " + std::strerror(errno); }

[[noreturn]] void throwWrite(const std::string& what, const fs::path& path) {
  throw CommandError(ErrorCode::FileWrite, "unable to " + what + " '" + path.string() + "': " + errnoText(),
                     "check that the destination is writable by this user and the file system is not full");
}

class FdSink final : public Sink {
 public:
  FdSink(int fd, const fs::path& path) : fd_(fd), path_(path) {}
  void write(ByteView data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throwWrite("write", path_);
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  const fs::path& path_;
};

// A manifest name prefix ("pg_data", "pg_tblspc/16385") and the directory (or, for a file link, the file) it is
// restored to.
struct Target {
  std::string prefix;
  fs::path destination;
};

// Owner ids by name, resolved once before the threads start (getpwnam is not thread-safe).
struct Owners {
  bool root = ::geteuid() == 0;
  uid_t fallbackUid = 0;
  gid_t fallbackGid = 0;
  std::map<std::string, uid_t> users;
  std::map<std::string, gid_t> groups;

  void learn(const std::optional<ManifestOwner>& user, const std::optional<ManifestOwner>& owningGroup) {
    if (user && user->name && !users.contains(*user->name))
      if (const struct passwd* entry = ::getpwnam(user->name->c_str())) users[*user->name] = entry->pw_uid;
    if (owningGroup && owningGroup->name && !groups.contains(*owningGroup->name))
      if (const struct group* entry = ::getgrnam(owningGroup->name->c_str())) groups[*owningGroup->name] = entry->gr_gid;
  }
  uid_t uid(const std::optional<ManifestOwner>& user) const {
    if (user && user->name)
      if (auto it = users.find(*user->name); it != users.end()) return it->second;
    return fallbackUid;
  }
  gid_t gid(const std::optional<ManifestOwner>& owningGroup) const {
    if (owningGroup && owningGroup->name)
      if (auto it = groups.find(*owningGroup->name); it != groups.end()) return it->second;
    return fallbackGid;
  }
};

mode_t parseMode(const std::optional<std::string>& text, mode_t fallback) {
  if (!text) return fallback;
  try {
    return static_cast<mode_t>(std::stoul(*text, nullptr, 8));
  } catch (const std::exception&) {
    throw CommandError(ErrorCode::Format, "invalid mode '" + *text + "' in the backup manifest");
  }
}

std::string percent(std::uint64_t part, std::uint64_t total) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.2f%%", total == 0 ? 100.0 : 100.0 * static_cast<double>(part) / static_cast<double>(total));
  return text;
}

// The SHA-1 of a local file, streamed.
std::string fileSha1(int fd) {
  Sha1Meter sha;
  std::vector<unsigned char> buffer(256 * 1024);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sha.observe(ByteView(buffer.data(), static_cast<std::size_t>(n)));
  }
  return sha.hex();
}

class Restorer {
 public:
  Restorer(PosixStorage& repo, const RestoreOptions& options, Manifest manifest, std::string label)
      : repo_(repo), options_(options), manifest_(std::move(manifest)), label_(std::move(label)) {}

  RestoreResult run();

 private:
  struct Job {
    const ManifestFile* file;
    fs::path path;
  };

  void checkSupported() const;
  void mapTargets();
  std::optional<fs::path> resolve(std::string_view name) const;
  fs::path linkLocation(const std::string& name) const;
  void prepareDestination();
  void clean(const fs::path& directory, const std::string& name);
  void createPaths();
  void createLinks();
  void restoreFiles();
  void restoreFile(const Job& job);
  void syncDestinations(const std::vector<Job>& jobs) const;
  bool reuse(const Job& job);
  void setAttributes(int fd, const fs::path& path, const ManifestFile& file);
  void report(const Job& job, bool reused);
  void log(bool detail, const std::string& line) {
    if (!options_.log) return;
    std::lock_guard lock(logMutex_);
    options_.log(detail, line);
  }

  PosixStorage& repo_;
  const RestoreOptions& options_;
  Manifest manifest_;
  std::string label_;
  std::vector<Target> targets_;              // longest prefix first
  std::map<std::string, std::string> links_;  // links to create: manifest name -> destination
  std::set<std::string> fileNames_, pathNames_;
  Owners owners_;
  RestoreResult result_;

  std::mutex logMutex_;
  std::mutex progressMutex_;
  std::uint64_t doneSize_ = 0, doneFiles_ = 0;
  std::chrono::steady_clock::time_point lastProgress_ = std::chrono::steady_clock::now();
};

void Restorer::checkSupported() const {
  if (manifest_.backup.blockIncr.value_or(false))
    throw CommandError(ErrorCode::FeatureNotSupported,
                       "backup set " + label_ + " uses block incremental storage, which pgbr restore does not read",
                       "restore this set with pgbackrest");
}

void Restorer::mapTargets() {
  targets_.push_back({std::string(kPgData), options_.pgPath});
  for (const ManifestTarget& target : manifest_.targets) {
    if (target.name == kPgData) continue;
    if (target.name.starts_with("pg_tblspc/")) {
      const std::string oid = target.name.substr(std::string_view("pg_tblspc/").size());
      const std::string name = target.tablespaceName.value_or(oid);
      fs::path destination = target.path;
      if (auto it = options_.tablespaceMap.find(name); it != options_.tablespaceMap.end()) destination = it->second;
      else if (auto byOid = options_.tablespaceMap.find(oid); byOid != options_.tablespaceMap.end())
        destination = byOid->second;
      else if (options_.tablespaceMapAll) destination = fs::path(*options_.tablespaceMapAll) / name;
      if (destination != fs::path(target.path))
        log(false, "map tablespace '" + target.name + "' to '" + destination.string() + "'");
      targets_.push_back({target.name, destination});
      links_["pg_data/" + target.name] = destination.string();
      continue;
    }
    // Another link in PGDATA: kept as a link only with --link-map or --link-all, else restored in place.
    const std::string relative = target.name.substr(kPgData.size() + 1);
    fs::path destination = target.path;
    if (auto it = options_.linkMap.find(relative); it != options_.linkMap.end()) destination = it->second;
    else if (!options_.linkAll) continue;
    if (target.file) destination /= *target.file;
    targets_.push_back({target.name, destination});
    links_[target.name] = destination.string();
  }
  std::sort(targets_.begin(), targets_.end(),
            [](const Target& a, const Target& b) { return a.prefix.size() > b.prefix.size(); });
}

std::optional<fs::path> Restorer::resolve(std::string_view name) const {
  for (const Target& target : targets_) {
    if (name == target.prefix) return target.destination;
    if (name.size() > target.prefix.size() && name.starts_with(target.prefix) && name[target.prefix.size()] == '/')
      return target.destination / name.substr(target.prefix.size() + 1);
  }
  return std::nullopt;
}

// Where the link itself is created: under its parent's destination (the link's own name resolves to its target).
fs::path Restorer::linkLocation(const std::string& name) const {
  const std::size_t slash = name.rfind('/');
  return *resolve(name.substr(0, slash)) / name.substr(slash + 1);
}

void Restorer::prepareDestination() {
  const fs::path& pgPath = options_.pgPath;
  struct stat st {};
  if (::stat(pgPath.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkdir(pgPath.c_str(), 0700) != 0)
      throw CommandError(ErrorCode::PathMissing, "unable to create the data directory '" + pgPath.string() +
                                                     "': " + errnoText(),
                         "create it (owned by the database user, mode 0700) or check pg1-path");
    ::stat(pgPath.c_str(), &st);
  }
  owners_.fallbackUid = st.st_uid;
  owners_.fallbackGid = st.st_gid;
  if (fs::exists(pgPath / "postmaster.pid"))
    throw CommandError(ErrorCode::PgRunning, "unable to restore while PostgreSQL is running",
                       "presence of 'postmaster.pid' in '" + pgPath.string() +
                           "' indicates PostgreSQL is running\nremove 'postmaster.pid' only if PostgreSQL is not "
                           "running");
  if (!options_.delta && !options_.force) {
    for (const Target& target : targets_) {
      std::error_code ec;
      if (fs::is_directory(target.destination, ec) && !fs::is_empty(target.destination, ec))
        throw CommandError(ErrorCode::PathNotEmpty,
                           "unable to restore to path '" + target.destination.string() + "' because it contains files",
                           "try using --delta if this is what you intended");
    }
    return;
  }
  for (const Target& target : targets_) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(target.destination, ec))) clean(target.destination, target.prefix);
  }
}

// --delta/--force: removes from `directory` (manifest name `name`) everything the backup does not have.
void Restorer::clean(const fs::path& directory, const std::string& name) {
  std::vector<fs::path> entries;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) entries.push_back(entry.path());
  for (const fs::path& path : entries) {
    const std::string entryName = name + "/" + path.filename().string();
    const fs::file_status status = fs::symlink_status(path);
    bool keep = false;
    if (fs::is_symlink(status)) {
      auto it = links_.find(entryName);
      keep = it != links_.end() && fs::read_symlink(path) == fs::path(it->second);
    } else if (fs::is_directory(status)) {
      keep = pathNames_.contains(entryName) && !links_.contains(entryName);
      if (keep) clean(path, entryName);
    } else if (fs::is_regular_file(status)) {
      keep = fileNames_.contains(entryName) ||
             (options_.preserveRecoveryFiles &&
              (entryName == "pg_data/recovery.signal" || entryName == "pg_data/standby.signal"));
    }
    if (keep) continue;
    log(true, "remove invalid path/file/link '" + path.string() + "'");
    fs::remove_all(path);
    ++result_.removed;
  }
}

void Restorer::createPaths() {
  const mode_t defaultMode = parseMode(manifest_.pathDefault ? manifest_.pathDefault->mode : std::nullopt, 0700);
  for (const ManifestPath& path : manifest_.paths) {
    const std::optional<fs::path> destination = resolve(path.name);
    if (!destination) continue;  // "pg_tblspc": only its tablespaces are restored
    std::error_code ec;
    fs::create_directories(*destination, ec);
    if (ec) throw CommandError(ErrorCode::FileWrite, "unable to create path '" + destination->string() + "': " +
                                                         ec.message());
    const mode_t mode = parseMode(path.mode, defaultMode);
    if (::chmod(destination->c_str(), mode) != 0) throwWrite("set the mode of", *destination);
    if (owners_.root) {
      const auto& user = path.user ? path.user : (manifest_.pathDefault ? manifest_.pathDefault->user : std::nullopt);
      const auto& group =
          path.group ? path.group : (manifest_.pathDefault ? manifest_.pathDefault->group : std::nullopt);
      if (::lchown(destination->c_str(), owners_.uid(user), owners_.gid(group)) != 0)
        throwWrite("set the owner of", *destination);
    }
  }
}

void Restorer::createLinks() {
  for (const ManifestLink& link : manifest_.links) {
    auto it = links_.find(link.name);
    if (it == links_.end()) continue;  // restored as a directory or file (no --link-map/--link-all)
    const fs::path location = linkLocation(link.name);
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(location, ec)) && fs::read_symlink(location, ec) == fs::path(it->second))
      continue;
    fs::create_directories(location.parent_path(), ec);
    if (::symlink(it->second.c_str(), location.c_str()) != 0) throwWrite("create link", location);
    if (owners_.root) {
      const auto& user = link.user ? link.user : (manifest_.linkDefault ? manifest_.linkDefault->user : std::nullopt);
      const auto& group =
          link.group ? link.group : (manifest_.linkDefault ? manifest_.linkDefault->group : std::nullopt);
      if (::lchown(location.c_str(), owners_.uid(user), owners_.gid(group)) != 0)
        throwWrite("set the owner of", location);
    }
  }
}

void Restorer::setAttributes(int fd, const fs::path& path, const ManifestFile& file) {
  const ManifestDefaults none;
  const ManifestDefaults& defaults = manifest_.fileDefault ? *manifest_.fileDefault : none;
  if (::fchmod(fd, parseMode(file.mode ? file.mode : defaults.mode, 0600)) != 0) throwWrite("set the mode of", path);
  if (owners_.root &&
      ::fchown(fd, owners_.uid(file.user ? file.user : defaults.user),
               owners_.gid(file.group ? file.group : defaults.group)) != 0)
    throwWrite("set the owner of", path);
  const timespec times[2] = {{file.timestamp, 0}, {file.timestamp, 0}};
  if (::futimens(fd, times) != 0) throwWrite("set the time of", path);
}

// --delta: the file is already there with the backup's size and SHA-1.
bool Restorer::reuse(const Job& job) {
  struct stat st {};
  if (::lstat(job.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != job.file->size)
    return false;
  UniqueFd fd(::open(job.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd || fileSha1(fd.get()) != job.file->checksum.value_or(std::string(kEmptySha1))) return false;
  setAttributes(fd.get(), job.path, *job.file);
  return true;
}

void Restorer::restoreFile(const Job& job) {
  const ManifestFile& file = *job.file;
  if ((options_.delta || options_.force) && job.file->name != kPgControl && reuse(job)) {
    report(job, true);
    return;
  }
  const fs::path destination =
      file.name == kPgControl ? fs::path(job.path.string() + kTempSuffix) : job.path;
  UniqueFd out(::open(destination.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!out) throwWrite("open", destination);
  if (file.size > 0) {
    StoredBackupFile stored = storedBackupFile(manifest_, file, options_.stanza);
    if (options_.repoEncrypted && stored.length) {
      // Bundle members are encrypted one by one, so the mount's raw view cannot serve them (EIO); its snapshot
      // view decrypts and decompresses each member (checking it) and the pipeline below checks it again.
      const std::optional<std::string> inSnapshot = snapshotPathOf(file.name);
      if (!inSnapshot)
        throw CommandError(ErrorCode::Format, "manifest file '" + file.name + "' has no place in a data directory");
      stored.repoPath = "snapshot/" + options_.stanza + "/" + label_ + "/" + *inSnapshot;
      stored.offset = 0;
      stored.length.reset();
      stored.compressType = CompressType::None;
      stored.raw = false;
    }
    const std::string& repoFile = stored.repoPath;
    UniqueFd in(repo_.openBeneath(repoFile, O_RDONLY | O_CLOEXEC));
    if (!in) {
      if (errno == ENOENT)
        throw CommandError(ErrorCode::FileMissing,
                           "unable to restore '" + file.name + "': repository file '" + repo_.root() + "/" + repoFile +
                               "' is missing",
                           "the backup set is damaged; run pgbackrest verify, or restore another set with --set");
      throw CommandError(ErrorCode::FileOpen, "unable to open repository file '" + repo_.root() + "/" + repoFile +
                                                  "' to restore '" + file.name + "': " + errnoText());
    }
    FdSink sink(out.get(), destination);
    Pipeline pipeline(sink);
    pipeline.add(newDecompressFilter(stored.compressType, stored.raw));
    Sha1Meter& sha = pipeline.add(std::make_unique<Sha1Meter>());
    SizeMeter& size = pipeline.add(std::make_unique<SizeMeter>());
    const bool bundled = stored.length.has_value();
    std::uint64_t offset = stored.offset;
    std::uint64_t remaining = stored.length.value_or(UINT64_MAX);
    std::vector<unsigned char> buffer(Pipeline::kDefaultBufferSize);
    try {
      while (remaining > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), remaining));
        const ssize_t n = ::pread(in.get(), buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
          throw CommandError(ErrorCode::FileRead, "unable to read repository file '" + repo_.root() + "/" +
                                                      repoFile + "': " + errnoText());
        if (n == 0) {
          if (bundled)
            throw CommandError(ErrorCode::FileRead, "repository file '" + repo_.root() + "/" + repoFile +
                                                        "' ends before the bundle member of '" + file.name + "'");
          break;
        }
        pipeline.write(ByteView(buffer.data(), static_cast<std::size_t>(n)));
        offset += static_cast<std::uint64_t>(n);
        remaining -= static_cast<std::uint64_t>(n);
      }
      pipeline.close();
    } catch (const CommandError&) {
      throw;
    } catch (const std::exception& e) {
      throw CommandError(ErrorCode::Format,
                         "unable to restore '" + file.name + "' from repository file '" + repo_.root() + "/" +
                             repoFile + "': " + e.what(),
                         "the repository file is corrupt; run pgbackrest verify, or restore another set with --set");
    }
    const std::string& expected = stored.checksum;
    if (size.size() != file.size || sha.hex() != expected)
      throw CommandError(ErrorCode::Checksum,
                         "error restoring '" + file.name + "' from repository file '" + repo_.root() + "/" + repoFile +
                             "': actual checksum '" + sha.hex() + "' and size " + std::to_string(size.size()) +
                             " do not match the manifest's checksum '" + expected + "' and size " +
                             std::to_string(file.size),
                         "the repository file is corrupt; run pgbackrest verify, or restore another set with --set");
  }
  setAttributes(out.get(), destination, file);
  // Writeback starts now, without waiting for it: every file is made durable by one syncfs per file system before
  // pg_control is put in place (syncDestinations), so the disk writes of many files overlap the work on the next.
  ::sync_file_range(out.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  if (out.close() != 0) throwWrite("close", destination);
  report(job, false);
}

void Restorer::report(const Job& job, bool reused) {
  std::string line;
  {
    std::lock_guard lock(progressMutex_);
    doneSize_ += job.file->size;
    ++doneFiles_;
    if (reused) ++result_.reusedFiles;
    line = "restore file " + job.path.string() + (reused ? " - exists and matches backup" : "") + " (" +
           formatInfoSize(job.file->size) + ", " + percent(doneSize_, result_.sizeTotal) + ")" +
           (job.file->checksum ? " checksum " + *job.file->checksum : "");
    const auto now = std::chrono::steady_clock::now();
    if (now - lastProgress_ >= std::chrono::seconds(5)) {
      lastProgress_ = now;
      log(false, "restore progress: " + percent(doneSize_, result_.sizeTotal) + " (" + formatInfoSize(doneSize_) +
                     " of " + formatInfoSize(result_.sizeTotal) + ", " + std::to_string(doneFiles_) + " of " +
                     std::to_string(result_.fileTotal) + " files)");
    }
  }
  log(true, line);
}

void Restorer::restoreFiles() {
  std::vector<Job> jobs;
  const Job* control = nullptr;
  for (const ManifestFile& file : manifest_.files) {
    if (file.name == kTablespaceMap) continue;
    const std::optional<fs::path> path = resolve(file.name);
    if (!path) throw CommandError(ErrorCode::Format, "backup manifest file '" + file.name + "' has no target");
    jobs.push_back({&file, *path});
    result_.sizeTotal += file.size;
  }
  result_.fileTotal = jobs.size();
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.file->size > b.file->size; });
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex errorMutex;
  auto worker = [&] {
    for (;;) {
      const std::size_t index = next++;
      if (index >= jobs.size() || failed) return;
      try {
        restoreFile(jobs[index]);
      } catch (...) {
        std::lock_guard lock(errorMutex);
        if (!failed.exchange(true)) error = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, options_.processMax); ++i) threads.emplace_back(worker);
  worker();
  for (std::thread& thread : threads) thread.join();
  if (error) std::rethrow_exception(error);

  // pg_control last, once everything else is durable, so that an interrupted restore cannot be started.
  syncDestinations(jobs);
  for (const Job& job : jobs)
    if (job.file->name == kPgControl) control = &job;
  if (control) {
    log(false, "restore global/pg_control (performed last to ensure aborted restores cannot be started)");
    const fs::path temp = control->path.string() + kTempSuffix;
    if (fs::exists(temp) && ::rename(temp.c_str(), control->path.c_str()) != 0) throwWrite("rename", temp);
  }
  syncDestinations(jobs);  // the rename and every directory entry
}

// syncfs of each file system the restore wrote to (the data directory's and the tablespaces'): the files' data and
// metadata and the directory entries, with writeback errors reported (Linux 5.8+).
void Restorer::syncDestinations(const std::vector<Job>& jobs) const {
  std::map<dev_t, fs::path> fileSystems;
  const auto add = [&fileSystems](const fs::path& directory) {
    struct stat st {};
    if (::stat(directory.c_str(), &st) == 0) fileSystems.emplace(st.st_dev, directory);
  };
  add(options_.pgPath);
  for (const Job& job : jobs) add(job.path.parent_path());
  for (const auto& [device, directory] : fileSystems) {
    UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) != 0) throwWrite("sync the file system of", directory);
  }
}

RestoreResult Restorer::run() {
  checkSupported();
  result_.label = label_;
  result_.pgVersion = manifest_.backupDb.version;
  try {
    manifestCompressType(manifest_);
  } catch (const FormatError& e) {
    throw CommandError(ErrorCode::Format, e.what());
  }
  for (const ManifestFile& file : manifest_.files) {
    if (file.name != kTablespaceMap) fileNames_.insert(file.name);
    owners_.learn(file.user, file.group);
  }
  for (const ManifestPath& path : manifest_.paths) {
    pathNames_.insert(path.name);
    owners_.learn(path.user, path.group);
  }
  for (const ManifestLink& link : manifest_.links) owners_.learn(link.user, link.group);
  for (const auto* defaults : {&manifest_.fileDefault, &manifest_.pathDefault, &manifest_.linkDefault})
    if (*defaults) owners_.learn((*defaults)->user, (*defaults)->group);
  mapTargets();
  prepareDestination();
  createPaths();
  createLinks();
  restoreFiles();
  log(false, "restore size = " + formatInfoSize(result_.sizeTotal) + ", file total = " +
                 std::to_string(result_.fileTotal));
  return result_;
}

}  // namespace

std::string selectBackupSet(Storage& repo, const std::string& stanza, const std::optional<std::string>& set,
                            const std::string& repoPath) {
  const BackupInfo info = loadStanzaBackupInfo(repo, stanza, repoPath);
  if (set) {
    if (!info.findBackup(*set))
      throw CommandError(ErrorCode::BackupSetInvalid, "backup set " + *set + " is not valid",
                         "run 'pgbr info' for the backup sets of the stanza");
    return *set;
  }
  if (info.backups.empty())
    throw CommandError(ErrorCode::BackupSetInvalid, "no backup set found to restore",
                       "the stanza '" + stanza + "' has no backup yet");
  return info.backups.back().label;
}

RestoreResult restoreBackup(PosixStorage& repo, const RestoreOptions& options) {
  const std::string label = selectBackupSet(repo, options.stanza, options.set, repo.root());
  const std::string manifestPath = stanzaBackupPath(options.stanza) + "/" + label + "/backup.manifest";
  Manifest manifest = loadManifest(manifestPath, plainInfoReader(repo));
  Restorer restorer(repo, options, std::move(manifest), label);
  return restorer.run();
}

}  // namespace pgbr::backup
