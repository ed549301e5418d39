#include "backup/backup_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "backup/archive_lookup.h"
#include "backup/backup_file_copy.h"
#include "backup/backup_manifest_build.h"
#include "backup/compress_filter.h"
#include "backup/info_file_loader.h"
#include "backup/manifest.h"
#include "backup/pg_control.h"
#include "backup/pgbackrest_error.h"
#include "backup/pipeline.h"
#include "backup/repo_filters.h"
#include "backup/stanza_info.h"
#include "backup/unique_fd.h"
#include "backup/wal_name.h"
#include "crypto/cipher_offsets.h"
#include "crypto/sha1.h"
#include "crypto/sub_pass.h"

namespace pgbr::backup {

namespace {

constexpr unsigned kCompressLevelNetwork = 3;

[[noreturn]] void failErrno(ErrorCode code, const std::string& what, const std::string& path, int error,
                            const std::string& hint = "") {
  throw CommandError(code, what + " '" + path + "': [" + std::to_string(error) + "] " + std::strerror(error), hint);
}

std::string requireColumn(const std::optional<std::string>& value, const std::string& what) {
  if (!value) throw CommandError(ErrorCode::DbQuery, what + " returned null");
  return *value;
}

// Writes `text` to main then copy (FORMAT.md §4.4) and wipes it (it may hold a sub-pass).
void saveInfo(Storage& storage, const std::string& path, std::string text) {
  for (const std::string& file : infoFileWriteOrder(path)) storage.put(file, asBytes(text));
  crypto::Secret::wipe(text);
}

Bytes gzip(ByteView data, int level) {
  Bytes out;
  BytesSink sink(out);
  Pipeline pipeline(sink);
  pipeline.add(newCompressFilter(CompressType::Gz, level));
  pipeline.write(data);
  pipeline.close();
  return out;
}

std::optional<Manifest> loadManifest(Storage& storage, const std::string& backupPath, const std::string& label) {
  for (const std::string& name : {std::string("backup.manifest"), std::string("backup.manifest.copy")}) {
    const std::string path = backupPath + "/" + label + "/" + name;
    std::optional<Bytes> data = storage.get(path);
    if (!data) continue;
    std::string text(data->begin(), data->end());
    crypto::Secret::wipe(data->data(), data->size());
    try {
      Manifest manifest = Manifest::parse(text, path);
      crypto::Secret::wipe(text);
      return manifest;
    } catch (const std::exception&) {
      crypto::Secret::wipe(text);
    }
  }
  return std::nullopt;
}

// Backup directories that hold no backup.manifest and that backup.info does not list: left by a backup that
// failed or was killed. pgBackRest resumes or removes them; pgbr removes them.
void removeAbortedBackups(PosixStorage& repo, const std::string& backupPath, const BackupInfo& info,
                          const BackupEvents& events) {
  const std::optional<std::vector<std::string>> names = repo.list(backupPath);
  if (!names) return;
  for (const std::string& name : *names) {
    if (!BackupLabel::isValid(name) || info.findBackup(name)) continue;
    if (repo.info(backupPath + "/" + name + "/backup.manifest")) continue;
    if (events.warn)
      events.warn("backup '" + name + "' was not completed (no backup.manifest) and is removed");
    std::error_code error;
    std::filesystem::remove_all(std::filesystem::path(repo.root()) / backupPath / name, error);
    if (error)
      throw CommandError(ErrorCode::FileWrite, "unable to remove incomplete backup '" + backupPath + "/" + name +
                                                   "': " + error.message(),
                         "remove the directory by hand through the repository mount");
  }
}

void makeDirectory(PosixStorage& repo, const std::string& path) {
  std::error_code error;
  const std::filesystem::path full = std::filesystem::path(repo.root()) / path;
  std::filesystem::create_directories(full, error);
  if (error) throw CommandError(ErrorCode::FileOpen, "unable to create path '" + full.string() + "': " + error.message());
  ::chmod(full.c_str(), 0750);
}

void replaceLink(PosixStorage& repo, const std::string& path, const std::string& destination) {
  const std::string temp = path + kTempSuffix;
  ::unlinkat(repo.rootFd(), temp.c_str(), 0);
  if (::symlinkat(destination.c_str(), repo.rootFd(), temp.c_str()) != 0)
    failErrno(ErrorCode::FileOpen, "unable to create link", path, errno);
  if (::renameat(repo.rootFd(), temp.c_str(), repo.rootFd(), path.c_str()) != 0)
    failErrno(ErrorCode::FileOpen, "unable to replace link", path, errno);
}

// "0, 3-5, 9" from checksum-page-error's numbers and [first,last] ranges.
std::string describePages(const JsonValue::Array& errors) {
  std::string text;
  for (const JsonValue& error : errors) {
    if (!text.empty()) text += ", ";
    if (error.isArray() && error.asArray().size() == 2)
      text += std::to_string(error.asArray()[0].asUInt64()) + "-" + std::to_string(error.asArray()[1].asUInt64());
    else if (error.isUInt64())
      text += std::to_string(error.asUInt64());
  }
  return text;
}

unsigned parseUnsigned(const std::string& text, const std::string& what) {
  try {
    return static_cast<unsigned>(std::stoul(text));
  } catch (const std::exception&) {
    throw CommandError(ErrorCode::DbQuery, what + " returned '" + text + "', expected a number");
  }
}

// Every segment from `start` to `stop` (same timeline) in order.
std::vector<std::string> segmentRange(const std::string& start, const std::string& stop, std::uint32_t segmentSize) {
  std::vector<std::string> segments{start};
  while (segments.back() < stop && segments.size() < 1000000) segments.push_back(nextWalSegment(segments.back(), segmentSize));
  return segments;
}

}  // namespace

BackupResult runBackup(PgConnection& connection, PosixStorage& repo, std::string_view stanza,
                       const std::string& repoPath, const BackupOptions& options, const BackupEvents& events) {
  const auto warn = [&](const std::string& text) { if (events.warn) events.warn(text); };
  const auto info = [&](const std::string& text) { if (events.info) events.info(text); };

  // The cluster, the stanza, and that the connection reaches the cluster at pg1-path.
  const PgControl cluster = readPgControl(options.pgPath);
  const ArchiveInfo archiveInfo = loadStanzaArchiveInfo(repo, stanza, repoPath);
  BackupInfo backupInfo = loadStanzaBackupInfo(repo, stanza, repoPath);
  checkStanzaMatchesCluster(archiveInfo, backupInfo, cluster);
  const auto identity = connection.queryRow(
      "select system_identifier::text, current_setting('server_version_num'), current_setting('wal_segment_size') "
      "from pg_catalog.pg_control_system()");
  if (requireColumn(identity[0], "pg_control_system()") != std::to_string(cluster.systemId))
    throw CommandError(ErrorCode::DbMismatch,
                       "the cluster connected to has system id " + *identity[0] + " but pg1-path '" +
                           options.pgPath.string() + "' has " + std::to_string(cluster.systemId),
                       "pg1-port/pg1-socket-path and pg1-path must name the same cluster");
  if (parseUnsigned(requireColumn(identity[1], "server_version_num"), "server_version_num") < 150000)
    throw CommandError(ErrorCode::VersionNotSupported, "pgbr backup supports PostgreSQL 15 and later only",
                       "use pgbackrest backup for older clusters");
  if (connection.queryRow("select pg_catalog.pg_is_in_recovery()::text")[0] == "true")
    throw CommandError(ErrorCode::FeatureNotSupported, "backup from a standby is not supported by pgbr",
                       "run the backup against the primary");
  const std::uint32_t segmentSize = parseUnsigned(requireColumn(identity[2], "wal_segment_size"), "wal_segment_size");

  const std::string backupPath = stanzaBackupPath(stanza);
  removeAbortedBackups(repo, backupPath, backupInfo, events);

  // The prior backup of a diff/incr (FORMAT.md §8 step 3).
  BackupType type = options.type;
  std::optional<Manifest> prior;
  if (type != BackupType::Full) {
    for (auto it = backupInfo.backups.rbegin(); it != backupInfo.backups.rend() && !prior; ++it) {
      if (it->dbId != backupInfo.dbId || (type == BackupType::Diff && it->type != BackupType::Full)) continue;
      prior = loadManifest(repo, backupPath, it->label);
      if (!prior) warn("unable to load the manifest of backup '" + it->label + "': it cannot be a prior backup");
    }
    if (!prior) {
      warn("no prior backup exists, " + std::string(backupTypeName(type)) + " backup has been changed to full");
      type = BackupType::Full;
    } else {
      info("last backup label = " + prior->backup.label + ", version = " + prior->header.backrestVersion);
    }
  }

  // pg_backup_start (non-exclusive: the backup lives in this session).
  const std::time_t timestampStart = std::time(nullptr);
  info("execute non-exclusive backup start: backup begins after the " +
       std::string(options.startFast ? "requested immediate checkpoint" : "next regular checkpoint") + " completes");
  const auto start = connection.queryRow(
      std::string("select lsn::text, pg_catalog.pg_walfile_name(lsn) from pg_catalog.pg_backup_start("
                  "'pgBackRest backup started at ' || current_timestamp, ") +
      (options.startFast ? "true" : "false") + ") as lsn");
  const std::string lsnStart = requireColumn(start[0], "pg_backup_start()");
  const std::string archiveStart = requireColumn(start[1], "pg_walfile_name()");
  info("backup start archive = " + archiveStart + ", lsn = " + lsnStart);

  // The label: after every backup directory and backup.history entry (FORMAT.md §1).
  std::vector<std::string> existing = repo.list(backupPath).value_or(std::vector<std::string>{});
  if (const auto years = repo.list(backupPath + "/backup.history"))
    for (const std::string& year : *years)
      for (const std::string& name : repo.list(backupPath + "/backup.history/" + year).value_or(std::vector<std::string>{}))
        existing.push_back(name.substr(0, name.find('.')));
  std::erase_if(existing, [](const std::string& name) { return !BackupLabel::isValid(name); });
  const std::optional<BackupLabel> priorLabel =
      prior ? std::optional<BackupLabel>(BackupLabel::parseOrThrow(prior->backup.label)) : std::nullopt;
  const std::optional<BackupLabel> label = BackupLabel::next(type, priorLabel, timestampStart, existing);
  if (!label)
    throw CommandError(ErrorCode::Runtime, "new backup label is not later than the latest backup label",
                       "has the timezone changed? is there clock skew?");
  const std::string labelDir = backupPath + "/" + label->str();

  // The manifest (FORMAT.md §5, §8 step 4).
  Manifest manifest;
  manifest.backup.label = label->str();
  manifest.backup.type = type;
  manifest.backup.archiveStart = archiveStart;
  manifest.backup.lsnStart = lsnStart;
  manifest.backup.timestampStart = timestampStart;
  if (prior) {
    manifest.backup.prior = prior->backup.label;
    std::vector<std::string> chain = prior->referenceList();
    if (chain.empty()) chain.push_back(prior->backup.label);
    chain.push_back(label->str());
    std::string joined;
    for (const std::string& item : chain) joined += (joined.empty() ? "" : ",") + item;
    manifest.backup.reference = joined;
  } else {
    manifest.backup.reference = label->str();
  }
  const BackupHistoryEntry& current = backupInfo.current();
  manifest.backupDb = ManifestBackupDb{current.catalogVersion, current.controlVersion, current.id, current.systemId,
                                       current.version};
  ManifestBackupOptions& opt = manifest.options;
  opt.archiveCheck = options.archiveCheck;
  opt.archiveCopy = false;
  opt.backupStandby = false;
  opt.bufferSize = kBackupBufferSize;
  // Page checks need data checksums; within a set the option follows the full backup (FORMAT.md §9).
  {
    const bool clusterChecksums = connection.queryRow("select current_setting('data_checksums')")[0] == "on";
    bool checksumPage = options.checksumPage.value_or(clusterChecksums);
    if (checksumPage && !clusterChecksums) {
      warn("checksum-page option set to true but checksums are not enabled on the cluster, resetting to false");
      checksumPage = false;
    }
    if (prior && prior->options.checksumPage && *prior->options.checksumPage != checksumPage) {
      warn(std::string("checksum-page option set to ") + (checksumPage ? "true" : "false") +
           " but prior backup has checksum-page set to " + (checksumPage ? "false" : "true") + ", resetting to " +
           (checksumPage ? "false" : "true"));
      checksumPage = *prior->options.checksumPage;
    }
    opt.checksumPage = checksumPage;
  }
  opt.compress = options.compressType != CompressType::None;
  opt.compressLevel = static_cast<unsigned>(
      options.compressType == CompressType::None ? 0 : options.compressLevel.value_or(compressLevelDefault(options.compressType)));
  opt.compressLevelNetwork = kCompressLevelNetwork;
  opt.compressType = std::string(compressTypeName(options.compressType));
  opt.delta = options.delta;
  opt.hardlink = false;
  opt.online = true;
  opt.processMax = options.processMax;
  if (options.encrypted) {
    if (prior && prior->header.cipherPass)
      manifest.header.cipherPass = prior->header.cipherPass->clone();
    else
      manifest.header.cipherPass = crypto::generateSubPass();
  }
  if (prior && prior->options.compressType != opt.compressType)
    warn("compress-type option '" + *opt.compressType + "' differs from the prior backup's '" +
         prior->options.compressType.value_or("gz") + "': files of the prior backup keep theirs");

  const std::string templateOid =
      requireColumn(connection.queryRow("select oid::text from pg_catalog.pg_database where datname = 'template0'")[0],
                    "pg_database");
  for (const auto& row : connection.query("select datname, oid::text from pg_catalog.pg_database order by datname"))
    manifest.databases.push_back(ManifestDatabase{requireColumn(row[0], "pg_database"),
                                                  parseUnsigned(requireColumn(row[1], "pg_database"), "pg_database"),
                                                  parseUnsigned(templateOid, "pg_database"), {}});
  ManifestBuildOptions build;
  build.pgVersion = cluster.version;
  build.catalogVersion = cluster.catalogVersion;
  build.excludes = options.excludes;
  build.checksumPage = opt.checksumPage.value_or(false);
  build.warn = events.warn;
  for (const auto& row : connection.query("select oid::text, spcname from pg_catalog.pg_tablespace"))
    build.tablespaceNames[requireColumn(row[0], "pg_tablespace")] = requireColumn(row[1], "pg_tablespace");
  buildManifestFromPgData(manifest, options.pgPath, build);

  // Copy start: the next whole second, so that a change after the manifest was built shows in the timestamps.
  {
    const auto now = std::chrono::system_clock::now();
    const auto next = std::chrono::ceil<std::chrono::seconds>(now + std::chrono::milliseconds(1));
    std::this_thread::sleep_until(next);
    manifest.backup.timestampCopyStart = std::chrono::duration_cast<std::chrono::seconds>(next.time_since_epoch()).count();
  }

  std::vector<FileComparison> comparisons(manifest.files.size());
  if (prior) {
    bool delta = options.delta;
    if (!delta)
      if (const auto reason = deltaReason(manifest, *prior, manifest.backup.timestampCopyStart)) {
        warn(*reason);
        delta = true;
      }
    manifest.options.delta = delta;
    comparisons = compareWithPrior(manifest, *prior, delta);
  }

  // The directory and backup.manifest.copy first: on an encrypted mount it holds the sub-pass that encrypts the
  // files (FORMAT.md §3, §8 step 8).
  makeDirectory(repo, labelDir);
  {
    std::string text = manifest.render();
    repo.put(labelDir + "/backup.manifest.copy", asBytes(text));
    crypto::Secret::wipe(text);
  }

  std::set<std::string> directories;
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    if (comparisons[i].decision == FileDecision::Reference) continue;
    directories.insert(labelDir + "/" + repoPathParent(manifest.files[i].name));
  }
  if (type == BackupType::Full) {
    for (const ManifestPath& path : manifest.paths) directories.insert(labelDir + "/" + path.name);
  }
  for (const std::string& directory : directories) makeDirectory(repo, directory);
  if (type == BackupType::Full)
    for (const ManifestLink& link : manifest.links)
      if (link.name.starts_with("pg_data/pg_tblspc/"))
        replaceLink(repo, labelDir + "/" + link.name, "../../pg_tblspc/" + repoPathName(link.name));

  const BackupCopyOptions copyOptions{options.compressType, options.compressLevel, options.processMax, options.encrypted,
                                      parseLsn(lsnStart)};
  const auto saveManifestCopy = [&](const std::vector<BackupCopyResult>& sofar, const std::vector<char>& finished) {
    // Manifest is move-only (it holds the sub-pass); a checkpoint every GiB can afford a copy through its text.
    std::string base = manifest.render();
    Manifest partial = Manifest::parse(base, labelDir + "/backup.manifest.copy");
    crypto::Secret::wipe(base);
    applyFinishedResults(partial, comparisons, sofar, finished, prior ? &*prior : nullptr, copyOptions);
    std::string text = partial.render();
    repo.put(labelDir + "/backup.manifest.copy", asBytes(text));
    crypto::Secret::wipe(text);
  };
  const std::vector<BackupCopyResult> results =
      copyBackupFiles(manifest, repo, labelDir, comparisons, copyOptions, events.progress, saveManifestCopy);
  // pgBackRest warns about every copied file whose pages failed (restore still works: PostgreSQL repairs torn pages
  // from WAL, and real corruption is for the DBA to judge).
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].pages || results[i].pages->valid || results[i].vanished) continue;
    const std::string source = backupSourcePath(manifest, manifest.files[i].name).string();
    if (results[i].pages->errors.empty())
      warn("page misalignment in file " + source + ": file size is not divisible by page size " +
           std::to_string(kPgPageSize));
    else
      warn("invalid page checksums found in file " + source + " at pages " + describePages(results[i].pages->errors));
  }
  const std::size_t copied = applyCopyResults(manifest, comparisons, results, prior ? &*prior : nullptr, copyOptions,
                                              [&](const std::string& path) {
                                                if (events.detail) events.detail("skip file removed by database " + path);
                                              });

  // pg_backup_stop; backup_label and tablespace_map stored like the files (FORMAT.md §8 step 10).
  info("execute non-exclusive backup stop and wait for all WAL segments to archive");
  const auto stop = connection.queryRow(
      "select lsn::text, pg_catalog.pg_walfile_name(lsn), labelfile, spcmapfile "
      "from pg_catalog.pg_backup_stop(false)");
  manifest.backup.lsnStop = requireColumn(stop[0], "pg_backup_stop()");
  manifest.backup.archiveStop = requireColumn(stop[1], "pg_walfile_name()");
  manifest.backup.timestampStop = std::time(nullptr);
  info("backup stop archive = " + *manifest.backup.archiveStop + ", lsn = " + *manifest.backup.lsnStop);
  for (const auto& [name, content] : {std::pair<std::string, std::optional<std::string>>{"backup_label", stop[2]},
                                      std::pair<std::string, std::optional<std::string>>{"tablespace_map", stop[3]}}) {
    if (!content || content->empty()) continue;
    const std::string target = labelDir + "/pg_data/" + name + std::string(compressExtension(options.compressType));
    Bytes stored;
    BytesSink sink(stored);
    Pipeline pipeline(sink, kBackupBufferSize);
    RepoWriteSpec spec;
    spec.compressType = options.compressType;
    spec.compressLevel = options.compressLevel;
    const RepoWriteMeters meters = addRepoWriteFilters(pipeline, spec);
    pipeline.write(asBytes(*content));
    pipeline.close();
    repo.put(target, stored);
    ManifestFile file;
    file.name = "pg_data/" + name;
    file.timestamp = manifest.backup.timestampStop;
    setStoredFile(file, meters.result(), copyOptions);
    const auto at = std::lower_bound(manifest.files.begin(), manifest.files.end(), file.name,
                                     [](const ManifestFile& f, const std::string& n) { return f.name < n; });
    manifest.files.insert(at, std::move(file));
  }

  // The backup's WAL must be in the archive (FORMAT.md §8 step 11).
  if (options.archiveCheck) {
    const std::string archiveId = archiveInfo.current().archiveId();
    for (const std::string& segment : segmentRange(archiveStart, *manifest.backup.archiveStop, segmentSize)) {
      if (!waitForArchivedSegment(repo, stanza, archiveId, segment, options.archiveTimeout))
        throw CommandError(ErrorCode::ArchiveTimeout,
                           "WAL segment " + segment + " was not archived before the " +
                               std::to_string(options.archiveTimeout.count()) + "ms timeout",
                           "check the archive_command to ensure that all options are correct (especially --stanza).\n"
                           "check the PostgreSQL server log for errors.\n"
                           "run the 'start' command if the stanza was previously stopped.");
    }
    info("check archive for segment(s) " + archiveStart + ":" + *manifest.backup.archiveStop);
  }

  // Commit (FORMAT.md §8 step 12): manifest copy, manifest, history copy, latest, backup.info, archive.info.
  for (const ManifestFile& file : manifest.files)
    if (file.size > 0 && (!file.checksum || file.storedSize() == 0))
      throw CommandError(ErrorCode::Format, "manifest file '" + file.name + "' has no checksum or no stored size");
  const Manifest::Totals totals = manifest.totals();
  {
    std::string text = manifest.render();
    repo.put(labelDir + "/backup.manifest.copy", asBytes(text));
    repo.put(labelDir + "/backup.manifest", asBytes(text));
    Bytes history = gzip(asBytes(text), 9);
    crypto::Secret::wipe(text);
    repo.put(backupPath + "/" + Manifest::historyPath(*label), history);
  }
  replaceLink(repo, backupPath + "/latest", label->str());

  BackupInfoEntry entry;
  entry.label = label->str();
  entry.backrestVersion = manifest.header.backrestVersion;
  entry.archiveStart = archiveStart;
  entry.archiveStop = manifest.backup.archiveStop;
  entry.error = false;
  entry.repoSize = totals.repoSize;
  entry.repoSizeDelta = totals.repoSizeDelta;
  entry.size = totals.size;
  entry.sizeDelta = totals.sizeDelta;
  entry.lsnStart = lsnStart;
  entry.lsnStop = manifest.backup.lsnStop;
  entry.prior = manifest.backup.prior;
  if (prior) {
    std::vector<std::string> references = manifest.referenceList();
    std::erase(references, label->str());
    std::sort(references.begin(), references.end());
    entry.reference = references;
  }
  entry.timestampStart = manifest.backup.timestampStart;
  entry.timestampStop = manifest.backup.timestampStop;
  entry.type = type;
  entry.dbId = current.id;
  entry.optionArchiveCheck = opt.archiveCheck;
  entry.optionArchiveCopy = opt.archiveCopy;
  entry.optionBackupStandby = opt.backupStandby;
  entry.optionChecksumPage = opt.checksumPage;
  entry.optionCompress = opt.compress;
  entry.optionHardlink = opt.hardlink;
  entry.optionOnline = opt.online;
  backupInfo.backups.push_back(std::move(entry));
  std::sort(backupInfo.backups.begin(), backupInfo.backups.end(),
            [](const BackupInfoEntry& a, const BackupInfoEntry& b) { return a.label < b.label; });
  saveInfo(repo, backupInfoPath(stanza), backupInfo.render());
  saveInfo(repo, archiveInfoPath(stanza), archiveInfo.render());
  // Auto-expire (expire-auto) runs after this, in the backup command: it rewrites backup.info.

  BackupResult result;
  result.label = label->str();
  result.type = type;
  result.size = totals.size;
  result.sizeDelta = totals.sizeDelta;
  result.repoSizeDelta = totals.repoSizeDelta;
  result.fileCount = manifest.files.size();
  result.filesCopied = copied;
  result.archiveStart = archiveStart;
  result.archiveStop = *manifest.backup.archiveStop;
  return result;
}

}  // namespace pgbr::backup
