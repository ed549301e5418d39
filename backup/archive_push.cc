#include "backup/archive_push.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "backup/archive_lookup.h"
#include "backup/compress_filter.h"
#include "backup/pgbackrest_error.h"
#include "backup/pipeline.h"
#include "backup/stanza_info.h"
#include "backup/unique_fd.h"
#include "backup/wal_header.h"
#include "backup/wal_name.h"
#include "crypto/sha1.h"

namespace pgbr::backup {

namespace {

// The WAL file mapped read-only: archive-push reads every byte twice (SHA-1, then compression) and a mapping serves
// both from the page cache without zero-filling and copying 16 MiB into a buffer first.
class MappedWal {
 public:
  explicit MappedWal(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT)
        throw CommandError(ErrorCode::FileMissing, "unable to open missing file '" + path.string() + "' for read",
                           "is the WAL path right? archive_command passes it as %p, relative to the data directory");
      fail(ErrorCode::FileOpen, "unable to open file", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail(ErrorCode::FileRead, "unable to stat file", path, errno);
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ == 0) return;
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (data_ == MAP_FAILED) fail(ErrorCode::FileRead, "unable to map file", path, errno);
  }
  ~MappedWal() {
    if (data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  MappedWal(const MappedWal&) = delete;
  MappedWal& operator=(const MappedWal&) = delete;

  ByteView bytes() const {
    return data_ == MAP_FAILED ? ByteView() : ByteView(static_cast<const std::uint8_t*>(data_), size_);
  }

 private:
  [[noreturn]] static void fail(ErrorCode code, const std::string& what, const std::filesystem::path& path, int error) {
    throw CommandError(code, what + " '" + path.string() + "': [" + std::to_string(error) + "] " + std::strerror(error));
  }

  void* data_ = MAP_FAILED;
  std::size_t size_ = 0;
};

void checkWalHeader(ByteView wal, const std::string& walName, const ArchiveHistoryEntry& current) {
  WalHeader header;
  try {
    header = readWalHeader(wal, walName);
  } catch (const std::runtime_error& e) {
    throw CommandError(ErrorCode::Format, e.what(),
                       "is this a WAL segment of the cluster? use --no-archive-header-check to skip this check");
  }
  if (header.pgVersion != current.version || header.systemId != current.systemId)
    throw CommandError(ErrorCode::ArchiveMismatch,
                       "WAL file '" + walName + "' version " + header.pgVersion + ", system-id " +
                           std::to_string(header.systemId) + " do not match stanza version " + current.version +
                           ", system-id " + std::to_string(current.systemId),
                       "are you archiving to the correct stanza?");
}

Bytes compress(ByteView data, CompressType type, int level) {
  Bytes out;
  out.reserve(data.size() / 2);
  BytesSink sink(out);  // compressed WAL is a few MiB at most and goes to storage in one put()
  Pipeline pipeline(sink);
  pipeline.add(newCompressFilter(type, level));
  pipeline.write(data);
  pipeline.close();
  return out;
}

std::optional<WalFileKind> checkedKind(std::string_view walName) {
  const std::optional<WalFileKind> kind = walFileKind(walName);
  if (!kind)
    throw CommandError(ErrorCode::ParamInvalid, "'" + std::string(walName) + "' is not a WAL file name",
                       "archive-push takes the path of a WAL segment, partial segment, .history or .backup file "
                       "(archive_command passes it as %p)");
  return kind;
}

ArchivePushResult push(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                       const std::string& walName, WalFileKind kind, ByteView wal, const ArchivePushOptions& options,
                       const PreparedWal* prepared) {
  const ArchiveHistoryEntry& current = archiveInfo.current();
  ArchivePushResult result;
  result.archiveId = current.archiveId();
  const std::string directory = walDirectoryPath(stanza, result.archiveId, walName);

  if (!walNameCarriesChecksum(kind)) {
    // .history and .backup: stored as they are, replacing an earlier copy (pgBackRest does not check them).
    result.repoFile = directory + "/" + walName;
    storage.put(result.repoFile, wal);
    return result;
  }

  if (options.headerCheck) checkWalHeader(wal, walName, current);
  if (prepared != nullptr && prepared->compressType != options.compressType) prepared = nullptr;
  // The name needs the SHA-1 and the content needs compressing: on two cores they run side by side.
  std::future<std::string> hashing =
      prepared != nullptr ? std::async(std::launch::deferred, [prepared] { return prepared->sha1Hex; })
                          : std::async(std::launch::async, [wal] { return crypto::Sha1::hexOf(wal); });
  const std::vector<std::string> existing = findArchivedSegment(storage, directory, walName);
  if (!existing.empty()) {
    const std::string sha1 = hashing.get();
    result.repoFile = directory + "/" + existing.front();
    if (parseArchivedWalName(existing.front())->sha1Hex != sha1)
      throw CommandError(ErrorCode::ArchiveDuplicate,
                         "WAL file '" + walName + "' already exists in the repo1 archive with a different checksum",
                         "the archive holds '" + result.repoFile + "'; find out which copy is right before removing "
                         "either (another cluster archiving to this stanza?)");
    result.outcome = ArchivePushResult::Outcome::AlreadyExists;
    return result;
  }

  const int level = options.compressLevel.value_or(compressLevelDefault(options.compressType));
  const Bytes compressed = options.compressType == CompressType::None || prepared != nullptr
                               ? Bytes()
                               : compress(wal, options.compressType, level);
  const ByteView stored = options.compressType == CompressType::None ? wal
                          : prepared != nullptr                      ? ByteView(prepared->compressed)
                                                                     : ByteView(compressed);
  result.repoFile = directory + "/" + archivedWalName(walName, hashing.get(), compressExtension(options.compressType));
  storage.put(result.repoFile, stored);
  return result;
}

}  // namespace

ArchivePushResult archivePush(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                              const std::filesystem::path& walPath, const ArchivePushOptions& options) {
  const std::string walName = walPath.filename().string();
  const WalFileKind kind = *checkedKind(walName);
  if (options.cluster) checkArchiveMatchesCluster(archiveInfo, *options.cluster);
  const MappedWal mapped(walPath);
  return push(storage, stanza, archiveInfo, walName, kind, mapped.bytes(), options, nullptr);
}

ArchivePushResult archivePushBytes(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                                   std::string_view walName, ByteView wal, const ArchivePushOptions& options,
                                   const PreparedWal* prepared) {
  const WalFileKind kind = *checkedKind(walName);
  if (options.cluster) checkArchiveMatchesCluster(archiveInfo, *options.cluster);
  return push(storage, stanza, archiveInfo, std::string(walName), kind, wal, options, prepared);
}

}  // namespace pgbr::backup
