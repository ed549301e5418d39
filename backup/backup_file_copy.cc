#include "backup/backup_file_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "backup/fd_sink.h"
#include "backup/pgbackrest_error.h"
#include "backup/pipeline.h"
#include "backup/storage_error.h"
#include "backup/unique_fd.h"
#include "crypto/cipher_offsets.h"
#include "crypto/sha1.h"

namespace pgbr::backup {

namespace {

[[noreturn]] void failErrno(ErrorCode code, const std::string& what, const std::string& path, int error,
                            const std::string& hint = "") {
  throw CommandError(code, what + " '" + path + "': [" + std::to_string(error) + "] " + std::strerror(error), hint);
}

constexpr std::uint64_t kWholeFile = UINT64_MAX;

// Reads `path` into `consume` in chunks, at most `limit` bytes (kWholeFile: to the end). Returns false when the
// file vanished before it could be opened.
template <typename Consume>
bool readSource(const std::filesystem::path& path, std::uint64_t limit, std::vector<std::uint8_t>& buffer,
                Consume&& consume) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    failErrno(ErrorCode::FileOpen, "unable to open file", path.string(), errno,
              "does the backup run as the owner of the data directory (postgres)?");
  }
  std::uint64_t left = limit;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    const ssize_t got = ::read(fd.get(), buffer.data(), want);
    if (got < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileRead, "unable to read file", path.string(), errno);
    }
    if (got == 0) break;
    consume(ByteView(buffer.data(), static_cast<std::size_t>(got)));
    left -= static_cast<std::uint64_t>(got);
  }
  return true;
}

// The absolute path of a manifest file in the cluster: pg_data/<x> below PGDATA, pg_tblspc/<oid>/<x> below the
// tablespace's location.
}  // namespace

std::filesystem::path backupSourcePath(const Manifest& manifest, const std::string& name) {
  const std::size_t slash = name.find('/');
  std::string targetName = name.substr(0, slash);
  std::string rest = name.substr(slash + 1);
  if (targetName == "pg_tblspc") {
    const std::size_t next = rest.find('/');
    targetName += "/" + rest.substr(0, next);
    rest = rest.substr(next + 1);
  } else {
    // A link inside PGDATA (pg_data/<link>) is a target of its own.
    for (const ManifestTarget& target : manifest.targets)
      if (target.type == "link" && !target.tablespaceId && (name == target.name || name.starts_with(target.name + "/"))) {
        if (target.file) return std::filesystem::path(target.path) / *target.file;
        return std::filesystem::path(target.path) / name.substr(target.name.size() + 1);
      }
  }
  for (const ManifestTarget& target : manifest.targets)
    if (target.name == targetName) return std::filesystem::path(target.path) / rest;
  throw CommandError(ErrorCode::Format, "no target for manifest file '" + name + "'");
}

namespace {

struct CopyJob {
  std::size_t index;  // in manifest.files
  const FileComparison* comparison;
};

// Removes a temporary file that was not renamed (copy failed or the source vanished); best effort.
struct TempFileGuard {
  PosixStorage& repo;
  std::string path;
  ~TempFileGuard() {
    if (path.empty()) return;
    try {
      repo.remove(path);
    } catch (...) {  // the failure being reported matters more; the next backup removes the directory anyway
    }
  }
};

class FileCopier {
 public:
  FileCopier(const Manifest& manifest, PosixStorage& repo, std::string backupDir, const BackupCopyOptions& options)
      : manifest_(manifest), repo_(repo), backupDir_(std::move(backupDir)), options_(options),
        extension_(compressExtension(options.compressType)) {}

  BackupCopyResult copy(const CopyJob& job, std::vector<std::uint8_t>& buffer, std::atomic<std::uint64_t>& done) {
    const ManifestFile& file = manifest_.files[job.index];
    const std::filesystem::path source = backupSourcePath(manifest_, file.name);
    const std::uint64_t limit = copyLimitedToManifestSize(file.name) ? file.size : kWholeFile;
    BackupCopyResult result;
    if (job.comparison->decision == FileDecision::Checksum) {
      crypto::Sha1 sha;
      if (!readSource(source, limit, buffer, [&](ByteView data) { sha.update(data); })) {
        result.vanished = true;
        return result;
      }
      if (sha.finishHex() == job.comparison->priorChecksum) {
        result.referenced = true;
        done += file.size;
        return result;
      }
    }
    // Written under pgBackRest's temporary name and renamed once complete, as pgBackRest does: a copy that fails or
    // is killed (its descriptor closed by the kernel, which a pgbrfs mount publishes) never leaves a partial file
    // under the final name.
    const std::string target = backupDir_ + "/" + file.name + std::string(extension_);
    const std::string temp = target + kTempSuffix;
    UniqueFd out(repo_.openBeneath(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (!out) failErrno(ErrorCode::FileOpen, "unable to open file for write", temp, errno);
    TempFileGuard guard{repo_, temp};
    FdSink sink(out.get(), temp, "is the repository file system (the pgbrfs mount) full or unmounted?");
    Pipeline pipeline(sink, kBackupBufferSize);
    RepoWriteSpec spec;
    spec.compressType = options_.compressType;
    spec.compressLevel = options_.compressLevel;
    const RepoWriteMeters meters = addRepoWriteFilters(pipeline, spec);
    std::optional<PageChecker> pages;
    if (file.checksumPage.value_or(false))
      pages.emplace(relationSegmentNumber(file.name), options_.backupStartLsn);
    const bool found = readSource(source, limit, buffer, [&](ByteView data) {
      if (pages) pages->update(data);
      pipeline.write(data);
      done += data.size();
    });
    if (!found) {
      out.reset();
      result.vanished = true;
      return result;
    }
    pipeline.close();
    if (::close(out.release()) != 0)
      failErrno(ErrorCode::FileWrite, "unable to close file", temp, errno,
                "is the repository file system (the pgbrfs mount) full or unmounted?");
    try {
      repo_.rename(temp, target);
    } catch (const StorageError& e) {
      throw CommandError(ErrorCode::FileWrite, e.what(),
                         "is the repository file system (the pgbrfs mount) full or unmounted?");
    }
    guard.path.clear();
    result.write = meters.result();
    if (pages) result.pages = pages->finish();
    return result;
  }

 private:
  const Manifest& manifest_;
  PosixStorage& repo_;
  std::string backupDir_;
  const BackupCopyOptions& options_;
  std::string_view extension_;
};

}  // namespace

std::vector<BackupCopyResult> copyBackupFiles(const Manifest& manifest, PosixStorage& repo, const std::string& labelDir,
                                              const std::vector<FileComparison>& comparisons,
                                              const BackupCopyOptions& options,
                                              const std::function<void(std::uint64_t, std::uint64_t)>& progress,
                                              const CopyCheckpoint& checkpoint) {
  std::vector<CopyJob> jobs;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    if (comparisons[i].decision == FileDecision::Reference) continue;
    jobs.push_back(CopyJob{i, &comparisons[i]});
    total += manifest.files[i].size;
  }
  std::stable_sort(jobs.begin(), jobs.end(), [&](const CopyJob& a, const CopyJob& b) {
    return manifest.files[a.index].size > manifest.files[b.index].size;
  });

  FileCopier copier(manifest, repo, labelDir, options);
  std::vector<BackupCopyResult> results(manifest.files.size());
  std::atomic<std::uint64_t> done{0};
  std::vector<char> finished(manifest.files.size(), 0);
  std::mutex resultsMutex;
  // Checkpoints run on the worker that crossed the threshold, one at a time; a failed save fails the backup.
  const std::uint64_t saveEvery = std::max<std::uint64_t>(1, std::max(options.manifestSaveThreshold, total / 100));
  std::mutex saveMutex;
  std::uint64_t savedAt = 0;
  const auto maybeSave = [&] {
    std::unique_lock save(saveMutex, std::try_to_lock);  // a save in progress: a later file triggers the next
    if (!save || done.load() - savedAt < saveEvery) return;
    savedAt = done.load();
    std::vector<BackupCopyResult> sofar;
    std::vector<char> finishedSofar;
    {
      std::lock_guard lock(resultsMutex);
      sofar = results;
      finishedSofar = finished;
    }
    checkpoint(sofar, finishedSofar);
  };
  std::atomic<std::size_t> nextJob{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failureMutex;
  const unsigned threads = std::max(1u, options.processMax);
  std::atomic<unsigned> running{threads};
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < threads; ++w)
    workers.emplace_back([&] {
      std::vector<std::uint8_t> buffer(kBackupBufferSize);
      try {
        for (std::size_t j; !failed && (j = nextJob++) < jobs.size();) {
          BackupCopyResult result = copier.copy(jobs[j], buffer, done);
          {
            std::lock_guard lock(resultsMutex);
            results[jobs[j].index] = std::move(result);
            finished[jobs[j].index] = 1;
          }
          if (checkpoint) maybeSave();
        }
      } catch (...) {
        std::lock_guard lock(failureMutex);
        if (!failure) failure = std::current_exception();
        failed = true;
      }
      --running;
    });
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (progress) progress(std::min(done.load(), total), total);
  }
  for (std::thread& worker : workers) worker.join();
  if (failure) std::rethrow_exception(failure);
  return results;
}

void setStoredFile(ManifestFile& file, const RepoWriteResult& written, const BackupCopyOptions& options) {
  file.size = written.size;
  file.checksum = written.size > 0 ? std::optional<std::string>(written.checksum) : std::nullopt;
  std::uint64_t repoSize = written.repoSize;
  if (options.encrypted)
    repoSize = crypto::offsets::cipherSizeForPlain(repoSize);
  else if (options.compressType != CompressType::None)
    file.repoChecksum = written.repoChecksum;
  file.repoSize = repoSize != file.size ? std::optional<std::uint64_t>(repoSize) : std::nullopt;
}

namespace {

void applyResult(ManifestFile& file, const BackupCopyResult& result, const Manifest* prior,
                 const BackupCopyOptions& options) {
  if (result.referenced && prior) {
    referencePriorFile(file, *prior->findFile(file.name), prior->backup.label);
    return;
  }
  setStoredFile(file, result.write, options);
  // The build marks the files to check; what is recorded is the outcome.
  file.checksumPage.reset();
  file.checksumPageError.reset();
  if (result.pages) {
    file.checksumPage = result.pages->valid;
    if (!result.pages->errors.empty()) file.checksumPageError = result.pages->errors;
  }
}

}  // namespace

void applyFinishedResults(Manifest& manifest, const std::vector<FileComparison>& comparisons,
                          const std::vector<BackupCopyResult>& results, const std::vector<char>& finished,
                          const Manifest* prior, const BackupCopyOptions& options) {
  for (std::size_t i = 0; i < manifest.files.size(); ++i)
    if (finished[i] && comparisons[i].decision != FileDecision::Reference && !results[i].vanished)
      applyResult(manifest.files[i], results[i], prior, options);
}

std::size_t applyCopyResults(Manifest& manifest, const std::vector<FileComparison>& comparisons,
                             const std::vector<BackupCopyResult>& results, const Manifest* prior,
                             const BackupCopyOptions& options, const std::function<void(const std::string&)>& dropped) {
  std::vector<ManifestFile> kept;
  kept.reserve(manifest.files.size());
  std::size_t copied = 0;
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    ManifestFile& file = manifest.files[i];
    const BackupCopyResult& result = results[i];
    if (comparisons[i].decision != FileDecision::Reference) {
      if (result.vanished) {
        if (dropped) dropped(backupSourcePath(manifest, file.name).string());
        continue;
      }
      if (!(result.referenced && prior)) ++copied;
      applyResult(file, result, prior, options);
    }
    kept.push_back(std::move(file));
  }
  manifest.files = std::move(kept);
  return copied;
}

}  // namespace pgbr::backup
