#include "backup/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <set>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/compress_type.h"
#include "backup/info_file_loader.h"
#include "backup/json_value.h"
#include "backup/manifest.h"
#include "backup/pipeline.h"
#include "backup/repo_filters.h"
#include "backup/storage_error.h"
#include "backup/unique_fd.h"
#include "backup/wal_header.h"
#include "backup/wal_name.h"

namespace pgbr::backup {
namespace {

constexpr const char* kEmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
constexpr std::uint32_t kDefaultSegmentSize = 16u << 20;

// Reads [offset, offset + limit) of an open file (to its end without a limit).
class FdRangeSource final : public Source {
 public:
  FdRangeSource(int fd, std::uint64_t offset, std::optional<std::uint64_t> limit)
      : fd_(fd), position_(offset), remaining_(limit) {}

  std::size_t read(MutableByteView out) override {
    std::size_t want = out.size();
    if (remaining_) want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *remaining_));
    if (want == 0) return 0;
    for (;;) {
      const ssize_t got = ::pread(fd_, out.data(), want, static_cast<off_t>(position_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw StorageError::fromErrno("unable to read", errno);
      position_ += static_cast<std::uint64_t>(got);
      if (remaining_) {
        if (got == 0) throw std::runtime_error("file ends " + std::to_string(*remaining_) + " bytes early");
        *remaining_ -= static_cast<std::uint64_t>(got);
      }
      return static_cast<std::size_t>(got);
    }
  }

 private:
  int fd_;
  std::uint64_t position_;
  std::optional<std::uint64_t> remaining_;
};

struct PlainContent {
  std::uint64_t size = 0;
  std::string sha1;
  std::string head;  // the first kWalLongHeaderSize bytes (WAL header)
};

// The plain content of a stored file (or of a bundle member): decompressed, hashed and measured. Throws
// StorageError (errno ENOENT for a missing file) or the decompressor's FormatError.
PlainContent readPlain(PosixStorage& repo, const std::string& path, std::uint64_t offset,
                       std::optional<std::uint64_t> limit, CompressType compressType, bool raw) {
  UniqueFd fd(repo.openBeneath(path, O_RDONLY | O_NOFOLLOW));
  if (fd.get() < 0) throw StorageError::fromErrno("unable to open", errno);
  FdRangeSource source(fd.get(), offset, limit);
  Pipeline pipeline(source);
  RepoReadSpec spec;
  spec.compressType = compressType;
  spec.raw = raw;
  RepoReadMeters meters = addRepoReadFilters(pipeline, spec);
  PlainContent content;
  std::vector<std::uint8_t> buffer(Pipeline::kDefaultBufferSize);
  for (;;) {
    const std::size_t got = pipeline.read(MutableByteView(buffer.data(), buffer.size()));
    if (got == 0) break;
    if (content.head.size() < kWalLongHeaderSize)
      content.head.append(reinterpret_cast<const char*>(buffer.data()),
                          std::min(got, kWalLongHeaderSize - content.head.size()));
  }
  const RepoReadResult result = meters.result();
  content.size = result.size;
  content.sha1 = result.checksum;
  return content;
}

std::string describe(const std::exception& error) {
  if (const auto* storage = dynamic_cast<const StorageError*>(&error); storage && storage->errorNumber() == EIO)
    return std::string(error.what()) + " (an encrypted mount answers EIO for a file it cannot decrypt)";
  return error.what();
}

class VerifyRun {
 public:
  VerifyRun(PosixStorage& repo, std::string_view stanza, const VerifyOptions& options, CommandLog& log)
      : repo_(repo),
        options_(options),
        log_(log),
        stanza_(stanza),
        archivePath_("archive/" + stanza_),
        backupPath_("backup/" + stanza_) {}

  VerifyReport run();

 private:
  void problem(const std::string& file, const std::string& kind, const std::string& message) {
    log_.detail("invalid " + (options_.repoPath.empty() ? file : options_.repoPath + "/" + file) + ": " + kind + ": " +
                message);
    report_.errors.push_back({file, kind, message});
  }
  template <typename Model>
  std::optional<Model> loadInfo(const std::string& path, const char* what);
  void verifyArchive();
  void verifyBackups();
  void verifyBackup(const std::string& label, VerifyBackupSummary& summary);
  void verifyBackupWal(const BackupInfoEntry& backup, VerifyBackupSummary& summary);

  PosixStorage& repo_;
  const VerifyOptions& options_;
  CommandLog& log_;
  std::string stanza_;
  std::string archivePath_;
  std::string backupPath_;
  std::optional<ArchiveInfo> archiveInfo_;
  std::optional<BackupInfo> backupInfo_;
  // Per archive id: names (24 hex, or with .partial) of the segments whose content checked out, and any at all.
  std::map<std::string, std::set<std::string>> validWal_;
  std::map<std::string, std::set<std::string>> presentWal_;
  std::map<std::string, std::uint32_t> segmentSize_;
  // Stored files already read ("path@offset") and whether they were valid.
  std::map<std::string, bool> checkedFiles_;
  std::map<std::string, std::size_t> skippedIndex_;
  VerifyReport report_;
};

// Loads main and copy separately (each must be valid: a bad copy is a lost safety net); returns the model of the
// first that loads.
template <typename Model>
std::optional<Model> VerifyRun::loadInfo(const std::string& path, const char* what) {
  std::optional<Model> model;
  std::optional<std::string> firstText;
  for (const std::string& file : infoFileWriteOrder(path)) {
    try {
      std::optional<Bytes> bytes = repo_.get(file);
      if (!bytes) {
        problem(file, "invalid info file", "missing (" + std::string(what) + " is kept twice: the file and its .copy)");
        continue;
      }
      const std::string text(bytes->begin(), bytes->end());
      Model loaded = Model::parse(text, file);
      if (!firstText) {
        firstText = text;
        model.emplace(std::move(loaded));
      } else if (*firstText != text) {
        log_.detail("'" + path + "' and its copy differ (both valid)");
      }
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& error) {
      problem(file, "invalid info file", describe(error));
    }
  }
  return model;
}

void VerifyRun::verifyArchive() {
  archiveInfo_ = loadInfo<ArchiveInfo>(archivePath_ + "/archive.info", "archive.info");
  std::vector<std::string> ids;
  for (const std::string& name : repo_.list(archivePath_).value_or(std::vector<std::string>{}))
    if (parseArchiveId(name)) ids.push_back(name);
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return parseArchiveId(a)->historyId < parseArchiveId(b)->historyId;
  });
  for (const std::string& id : ids) {
    VerifyArchiveSummary summary{id};
    const std::string idPath = archivePath_ + "/" + id;
    std::vector<std::string> directories = repo_.list(idPath).value_or(std::vector<std::string>{});
    std::sort(directories.begin(), directories.end());
    for (const std::string& directory : directories) {
      if (directory.size() != 16 || !walFileKind(directory + "00000000")) continue;
      std::vector<std::string> files = repo_.list(idPath + "/" + directory).value_or(std::vector<std::string>{});
      std::sort(files.begin(), files.end());
      for (const std::string& name : files) {
        const std::optional<ArchivedWalName> wal = parseArchivedWalName(name);
        if (!wal) continue;
        const std::string file = idPath + "/" + directory + "/" + name;
        ++summary.checked;
        presentWal_[id].insert(wal->walName);
        try {
          const PlainContent content = readPlain(repo_, file, 0, std::nullopt, compressTypeFromName(name), false);
          if (content.sha1 != wal->sha1Hex) {
            problem(file, "checksum mismatch", "actual '" + content.sha1 + "' but expected '" + wal->sha1Hex + "'");
            continue;
          }
          const WalHeader header = readWalHeader(
              ByteView(reinterpret_cast<const std::uint8_t*>(content.head.data()), content.head.size()), file);
          if (content.size != header.segmentSize) {
            problem(file, "size mismatch",
                    "actual " + std::to_string(content.size) + " but expected " + std::to_string(header.segmentSize) +
                        " (the segment size in its WAL header)");
            continue;
          }
          segmentSize_.emplace(id, header.segmentSize);
          validWal_[id].insert(wal->walName);
          ++summary.valid;
        } catch (const std::bad_alloc&) {
          throw;
        } catch (const std::exception& error) {
          problem(file, "read error", describe(error));
        }
      }
    }
    log_.detail("archiveId: " + id + ", total WAL checked: " + std::to_string(summary.checked) +
                ", total valid WAL: " + std::to_string(summary.valid));
    report_.archives.push_back(std::move(summary));
  }
}

void VerifyRun::verifyBackupWal(const BackupInfoEntry& backup, VerifyBackupSummary& summary) {
  if (!backup.archiveStart || !backup.archiveStop || !archiveInfo_) return;
  const ArchiveHistoryEntry* entry = archiveInfo_->findHistory(backup.dbId);
  if (entry == nullptr) {
    problem(backupPath_ + "/" + backup.label, "WAL missing",
            "archive.info has no archive id for db-id " + std::to_string(backup.dbId) + " of the backup");
    ++summary.invalid;
    return;
  }
  const std::string id = entry->archiveId();
  const auto size = segmentSize_.find(id);
  std::string segment = *backup.archiveStart;
  for (unsigned steps = 0; segment <= *backup.archiveStop && steps < 1000000; ++steps) {
    if (!validWal_[id].contains(segment)) {
      ++summary.invalid;
      if (!presentWal_[id].contains(segment))
        problem(archivePath_ + "/" + id + "/" + segment.substr(0, 16) + "/" + segment, "WAL missing",
                "segment needed by backup " + backup.label + " (WAL " + *backup.archiveStart + " to " +
                    *backup.archiveStop + ") is not in the archive");
    }
    segment = nextWalSegment(segment, size == segmentSize_.end() ? kDefaultSegmentSize : size->second);
  }
}

void VerifyRun::verifyBackup(const std::string& label, VerifyBackupSummary& summary) {
  const std::optional<Manifest> manifest =
      loadInfo<Manifest>(backupPath_ + "/" + label + "/backup.manifest", "backup.manifest");
  if (!manifest) return;
  summary.manifestValid = true;
  CompressType compressType = manifest->options.compress ? CompressType::Gz : CompressType::None;
  if (manifest->options.compressType) {
    if (std::optional<CompressType> type = parseCompressType(*manifest->options.compressType)) compressType = *type;
  }
  const bool bundled = manifest->backup.bundle.value_or(false);
  const bool raw = manifest->backup.bundleRaw.value_or(false);
  for (const ManifestFile& file : manifest->files) {
    // Zero-length files of a bundled backup are not stored at all.
    if (file.size == 0 && bundled && !file.bundleId) {
      ++summary.checked;
      ++summary.valid;
      continue;
    }
    const ManifestFileLocation location = manifest->fileLocation(file, compressExtension(compressType));
    const std::string path = backupPath_ + "/" + location.path;
    if (file.bundleId && options_.encryptedMount) {
      ++summary.skipped;
      const auto [slot, added] = skippedIndex_.emplace(path, report_.skipped.size());
      if (added) report_.skipped.push_back({path, "bundle on an encrypted mount", 0});
      ++report_.skipped[slot->second].members;
      continue;
    }
    if (file.blockIncrMapSize) {
      ++summary.skipped;
      const auto [slot, added] = skippedIndex_.emplace(path, report_.skipped.size());
      if (added) report_.skipped.push_back({path, "block incremental (not supported by pgbr verify)", 0});
      ++report_.skipped[slot->second].members;
      continue;
    }
    const std::string key = path + "@" + std::to_string(location.offset);
    ++summary.checked;
    if (const auto done = checkedFiles_.find(key); done != checkedFiles_.end()) {
      ++(done->second ? summary.valid : summary.invalid);
      continue;
    }
    const std::string shown =
        file.bundleId ? path + " (" + file.name + " at offset " + std::to_string(location.offset) + ")" : path;
    bool valid = false;
    try {
      const PlainContent content =
          readPlain(repo_, path, location.offset, file.bundleId ? std::optional(location.size) : std::nullopt,
                    compressType, file.bundleId && raw);
      const std::string expected = file.checksum.value_or(kEmptySha1);
      if (content.sha1 != expected)
        problem(shown, "checksum mismatch", "actual '" + content.sha1 + "' but expected '" + expected + "'");
      else if (content.size != file.size)
        problem(shown, "size mismatch",
                "actual " + std::to_string(content.size) + " but expected " + std::to_string(file.size));
      else
        valid = true;
    } catch (const StorageError& error) {
      if (error.errorNumber() == ENOENT)
        problem(shown, "missing", "file of " + file.name + " in backup " + label + " is not in the repository");
      else
        problem(shown, "read error", describe(error));
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& error) {
      problem(shown, "read error", describe(error));
    }
    checkedFiles_.emplace(key, valid);
    if (valid)
      ++summary.valid;
    else
      ++summary.invalid;
  }
}

void VerifyRun::verifyBackups() {
  backupInfo_ = loadInfo<BackupInfo>(backupPath_ + "/backup.info", "backup.info");
  std::set<std::string> listed;
  if (backupInfo_) {
    for (const BackupInfoEntry& backup : backupInfo_->backups) {
      listed.insert(backup.label);
      VerifyBackupSummary summary{backup.label};
      verifyBackup(backup.label, summary);
      verifyBackupWal(backup, summary);
      log_.detail("backup: " + backup.label + ", status: " + summary.status() + ", total files checked: " +
                  std::to_string(summary.checked) + ", total valid files: " + std::to_string(summary.valid));
      report_.backups.push_back(std::move(summary));
    }
  }
  for (const std::string& name : repo_.list(backupPath_).value_or(std::vector<std::string>{})) {
    if (!BackupLabel::isValid(name) || listed.contains(name)) continue;
    const std::string manifest = backupPath_ + "/" + name + "/backup.manifest";
    // No backup.manifest: a backup running, or one that failed or was killed before it wrote even its manifest copy
    // (found by tests/stress/crash_consistency: a daemon killed at the label's mkdir). pgBackRest's verify skips it
    // ("appears to be in progress"); the next backup removes it.
    if (!repo_.info(manifest)) {
      report_.skipped.push_back({backupPath_ + "/" + name, "backup in progress (no backup.manifest yet)", 0});
      continue;
    }
    problem(backupPath_ + "/" + name, "not in backup.info",
            "a backup directory that backup.info does not list (the next expire removes it)");
  }
}

VerifyReport VerifyRun::run() {
  report_.stanza = stanza_;
  verifyArchive();
  verifyBackups();
  return std::move(report_);
}

}  // namespace

std::string VerifyBackupSummary::status() const {
  if (!manifestValid) return "manifest invalid";
  return invalid == 0 ? "valid" : "invalid";
}

VerifyReport verifyStanza(PosixStorage& repo, std::string_view stanza, const VerifyOptions& options, CommandLog& log) {
  return VerifyRun(repo, stanza, options, log).run();
}

std::string renderVerifyText(const VerifyReport& report) {
  std::string text = "stanza: " + report.stanza + "\nstatus: " + (report.ok() ? "ok" : "error") + "\n";
  for (const VerifyArchiveSummary& archive : report.archives)
    text += "    archiveId: " + archive.archiveId + ", total WAL checked: " + std::to_string(archive.checked) +
            ", total valid WAL: " + std::to_string(archive.valid) + "\n";
  for (const VerifyBackupSummary& backup : report.backups) {
    text += "    backup: " + backup.label + ", status: " + backup.status() +
            ", total files checked: " + std::to_string(backup.checked) +
            ", total valid files: " + std::to_string(backup.valid);
    if (backup.skipped != 0) text += ", skipped: " + std::to_string(backup.skipped);
    text += "\n";
  }
  if (!report.skipped.empty()) {
    text += "skipped (" + std::to_string(report.skipped.size()) + "):\n";
    for (const VerifySkipped& skipped : report.skipped)
      text += "    " + skipped.file + ": " + skipped.reason +
              (skipped.members != 0 ? " (" + std::to_string(skipped.members) + " files)" : "") + "\n";
  }
  if (!report.errors.empty()) {
    text += "errors (" + std::to_string(report.errors.size()) + "):\n";
    for (const VerifyProblem& error : report.errors)
      text += "    " + error.file + ": " + error.kind + ": " + error.message + "\n";
  }
  return text;
}

std::string renderVerifyJson(const VerifyReport& report) {
  auto count = [](std::uint64_t value) { return JsonValue(value); };
  JsonValue::Array archives, backups, errors, skipped;
  for (const VerifyArchiveSummary& archive : report.archives)
    archives.push_back(JsonValue::Object{
        {"archiveId", archive.archiveId}, {"checked", count(archive.checked)}, {"valid", count(archive.valid)}});
  for (const VerifyBackupSummary& backup : report.backups)
    backups.push_back(JsonValue::Object{{"checked", count(backup.checked)},
                                        {"invalid", count(backup.invalid)},
                                        {"label", backup.label},
                                        {"skipped", count(backup.skipped)},
                                        {"status", backup.status()},
                                        {"valid", count(backup.valid)}});
  for (const VerifyProblem& error : report.errors)
    errors.push_back(JsonValue::Object{{"file", error.file}, {"kind", error.kind}, {"message", error.message}});
  for (const VerifySkipped& entry : report.skipped)
    skipped.push_back(
        JsonValue::Object{{"file", entry.file}, {"files", count(entry.members)}, {"reason", entry.reason}});
  const JsonValue document =
      JsonValue::Object{{"archive", archives}, {"backup", backups},       {"error", errors},
                        {"skipped", skipped},  {"stanza", report.stanza}, {"status", report.ok() ? "ok" : "error"}};
  return document.render() + "\n";
}

}  // namespace pgbr::backup
