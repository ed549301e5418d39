#include "backup/archive_get.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "backup/archive_lookup.h"
#include "backup/compress_filter.h"
#include "backup/fd_sink.h"
#include "backup/meter.h"
#include "backup/pgbackrest_error.h"
#include "backup/pipeline.h"
#include "backup/unique_fd.h"
#include "backup/wal_name.h"

namespace pgbr::backup {

namespace {

std::optional<ArchivedWalFile> find(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                          std::string_view walName, WalFileKind kind, const std::optional<PgControl>& cluster) {
  for (const std::string& archiveId : archiveIdsToSearch(archiveInfo, cluster)) {
    const std::string directory = walDirectoryPath(stanza, archiveId, walName);
    if (!walNameCarriesChecksum(kind)) {
      const std::string path = directory + "/" + std::string(walName);
      if (storage.info(path)) return ArchivedWalFile{archiveId, path, std::nullopt};
      continue;
    }
    const std::vector<std::string> names = findArchivedSegment(storage, directory, walName);
    if (names.empty()) continue;
    std::optional<ArchivedWalName> first = parseArchivedWalName(names.front());
    for (const std::string& name : names)
      if (parseArchivedWalName(name)->sha1Hex != first->sha1Hex)
        throw CommandError(ErrorCode::ArchiveDuplicate,
                           "duplicates found in the repo1:" + archiveId + " archive for WAL segment " +
                               std::string(walName) + ": " + names.front() + ", " + name,
                           "are multiple primaries archiving to this stanza?");
    return ArchivedWalFile{archiveId, directory + "/" + names.front(), std::move(first)};
  }
  return std::nullopt;
}

WalFileKind checkedKind(std::string_view walName) {
  const std::optional<WalFileKind> kind = walFileKind(walName);
  if (!kind)
    throw CommandError(ErrorCode::ParamInvalid, "'" + std::string(walName) + "' is not a WAL file name",
                       "archive-get takes a WAL segment, partial, .history or .backup file name "
                       "(restore_command passes it as %f)");
  return *kind;
}

CommandError checksumMismatch(const ArchivedWalFile& file, const std::string& actual) {
  return CommandError(ErrorCode::Checksum,
                      "WAL file '" + file.repoFile + "' has checksum " + actual + " but its name says " +
                          file.stored->sha1Hex,
                      "the archived file is corrupt; look for another copy of the segment");
}

}  // namespace

std::optional<ArchivedWalFile> locateArchivedWal(Storage& storage, std::string_view stanza,
                                                 const ArchiveInfo& archiveInfo, std::string_view walName,
                                                 const std::optional<PgControl>& cluster) {
  return find(storage, stanza, archiveInfo, walName, checkedKind(walName), cluster);
}

Bytes decodeArchivedWal(const ArchivedWalFile& file, ByteView stored) {
  if (!file.stored) return Bytes(stored.begin(), stored.end());
  Bytes out;
  out.reserve(16u << 20);
  BytesSink sink(out);
  Pipeline pipeline(sink);
  pipeline.add(newDecompressFilter(compressTypeFromName(file.repoFile)));
  Sha1Meter& sha1 = pipeline.add(std::make_unique<Sha1Meter>());
  pipeline.write(stored);
  pipeline.close();
  if (sha1.hex() != file.stored->sha1Hex) throw checksumMismatch(file, sha1.hex());
  return out;
}

std::optional<ArchiveGetResult> archiveGet(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                                           std::string_view walName, const std::filesystem::path& destination,
                                           const std::optional<PgControl>& cluster) {
  const std::optional<ArchivedWalFile> found = find(storage, stanza, archiveInfo, walName, checkedKind(walName), cluster);
  if (!found) return std::nullopt;
  const std::optional<Bytes> stored = storage.get(found->repoFile);
  if (!stored) return std::nullopt;  // removed (expire) between listing and reading

  const std::string temp = destination.string() + ".pgbackrest.tmp";
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd)
    throw CommandError(ErrorCode::FileOpen, "unable to open file '" + temp + "' for write: [" +
                                                std::to_string(errno) + "] " + std::strerror(errno),
                       "is the destination directory writable by this user?");
  try {
    FdSink sink(fd.get(), temp);
    Pipeline pipeline(sink);
    Sha1Meter* sha1 = nullptr;
    if (found->stored) pipeline.add(newDecompressFilter(compressTypeFromName(found->repoFile)));
    if (found->stored) sha1 = &pipeline.add(std::make_unique<Sha1Meter>());
    pipeline.write(*stored);
    pipeline.close();
    if (sha1 && sha1->hex() != found->stored->sha1Hex) throw checksumMismatch(*found, sha1->hex());
    if (fd.close() != 0)
      throw CommandError(ErrorCode::FileWrite, "unable to close '" + temp + "': [" + std::to_string(errno) + "] " +
                                                   std::strerror(errno));
    if (::rename(temp.c_str(), destination.c_str()) != 0)
      throw CommandError(ErrorCode::FileWrite, "unable to move '" + temp + "' to '" + destination.string() +
                                                   "': [" + std::to_string(errno) + "] " + std::strerror(errno));
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  return ArchiveGetResult{found->archiveId, found->repoFile};
}

}  // namespace pgbr::backup
