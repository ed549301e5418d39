#include "backup/archive_push.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

// Collects a pipeline's output in memory: compressed WAL is a few MiB at most and goes to storage in one put().
class BufferSink final : public Sink {
 public:
  explicit BufferSink(Bytes& out) : out_(out) {}
  void write(ByteView data) override { out_.insert(out_.end(), data.begin(), data.end()); }

 private:
  Bytes& out_;
};

Bytes readWalFile(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto fail = [&](ErrorCode code, const std::string& what, int error) {
    throw CommandError(code, what + " '" + path.string() + "': [" + std::to_string(error) + "] " +
                                 std::strerror(error));
  };
  if (!fd) {
    if (errno == ENOENT)
      throw CommandError(ErrorCode::FileMissing, "unable to open missing file '" + path.string() + "' for read",
                         "is the WAL path right? archive_command passes it as %p, relative to the data directory");
    fail(ErrorCode::FileOpen, "unable to open file", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(ErrorCode::FileRead, "unable to stat file", errno);
  Bytes data(static_cast<std::size_t>(st.st_size));
  std::size_t total = 0;
  while (true) {
    if (total == data.size()) data.resize(data.size() + 65536);  // grew since fstat: keep reading
    const ssize_t n = ::read(fd.get(), data.data() + total, data.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorCode::FileRead, "unable to read file", errno);
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  data.resize(total);
  return data;
}

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
  BufferSink sink(out);
  Pipeline pipeline(sink);
  pipeline.add(newCompressFilter(type, level));
  pipeline.write(data);
  pipeline.close();
  return out;
}

}  // namespace

ArchivePushResult archivePush(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                              const std::filesystem::path& walPath, const ArchivePushOptions& options) {
  const std::string walName = walPath.filename().string();
  const std::optional<WalFileKind> kind = walFileKind(walName);
  if (!kind)
    throw CommandError(ErrorCode::ParamInvalid, "'" + walName + "' is not a WAL file name",
                       "archive-push takes the path of a WAL segment, partial segment, .history or .backup file "
                       "(archive_command passes it as %p)");
  const ArchiveHistoryEntry& current = archiveInfo.current();
  if (options.cluster) checkArchiveMatchesCluster(archiveInfo, *options.cluster);

  const Bytes wal = readWalFile(walPath);
  ArchivePushResult result;
  result.archiveId = current.archiveId();
  const std::string directory = walDirectoryPath(stanza, result.archiveId, walName);

  if (!walNameCarriesChecksum(*kind)) {
    // .history and .backup: stored as they are, replacing an earlier copy (pgBackRest does not check them).
    result.repoFile = directory + "/" + walName;
    storage.put(result.repoFile, wal);
    return result;
  }

  if (options.headerCheck) checkWalHeader(wal, walName, current);
  const std::string sha1 = crypto::Sha1::hexOf(wal);
  for (const std::string& existing : findArchivedSegment(storage, directory, walName)) {
    result.repoFile = directory + "/" + existing;
    if (parseArchivedWalName(existing)->sha1Hex != sha1)
      throw CommandError(ErrorCode::ArchiveDuplicate,
                         "WAL file '" + walName + "' already exists in the repo1 archive with a different checksum",
                         "the archive holds '" + result.repoFile + "'; find out which copy is right before removing "
                         "either (another cluster archiving to this stanza?)");
    result.outcome = ArchivePushResult::Outcome::AlreadyExists;
    return result;
  }

  const int level = options.compressLevel.value_or(compressLevelDefault(options.compressType));
  result.repoFile = directory + "/" + archivedWalName(walName, sha1, compressExtension(options.compressType));
  if (options.compressType == CompressType::None)
    storage.put(result.repoFile, wal);
  else
    storage.put(result.repoFile, compress(wal, options.compressType, level));
  return result;
}

}  // namespace pgbr::backup
