// archive-get of one WAL file from a stanza's archive (FORMAT.md §7.2), the restore_command side: search the
// archive ids that belong to the cluster, newest first; decompress by the stored file's extension; check the
// SHA-1 its name carries; write the destination "<dest>.pgbackrest.tmp" then rename it. Plaintext storage, as
// for archive-push.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "backup/archive_info.h"
#include "backup/pg_control.h"
#include "backup/storage.h"
#include "backup/wal_name.h"

namespace pgbr::backup {

struct ArchiveGetResult {
  std::string archiveId;  // where it was found: "15-1"
  std::string repoFile;   // repository path read
};

// Where archive-get finds a WAL file: the archive id, the stored file, and for segments and partials the
// checksum and extension its name carries.
struct ArchivedWalFile {
  std::string archiveId;                  // "15-1"
  std::string repoFile;                   // repository path of the stored file
  std::optional<ArchivedWalName> stored;  // segments and partials; nullopt for .history and .backup files
};

// Finds `walName` as archive-get does (archive ids from archiveIdsToSearch, newest first). nullopt when the
// archive does not have it. Throws CommandError: ParamInvalid for a name that is not WAL, ArchiveDuplicate when a
// segment is stored with more than one checksum.
std::optional<ArchivedWalFile> locateArchivedWal(Storage& storage, std::string_view stanza,
                                                 const ArchiveInfo& archiveInfo, std::string_view walName,
                                                 const std::optional<PgControl>& cluster);

// The WAL content of `stored`, the stored bytes of `file`: decompressed by the file's extension and checked against
// the SHA-1 in its name. Throws CommandError(Checksum) on a mismatch; decompression errors propagate.
Bytes decodeArchivedWal(const ArchivedWalFile& file, ByteView stored);

// Copies `walName` to `destination`. Returns nullopt when the archive does not have it (not an error:
// PostgreSQL asks for files that do not exist yet). `cluster` selects the archive ids (nullopt: archive.info's
// current database). Throws CommandError: ParamInvalid for a name that is not WAL, ArchiveDuplicate when a
// segment is stored with more than one checksum, Checksum when the content does not match its name (the
// destination is then not written), FileWrite for the destination; decompression errors propagate.
std::optional<ArchiveGetResult> archiveGet(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                                           std::string_view walName, const std::filesystem::path& destination,
                                           const std::optional<PgControl>& cluster);

}  // namespace pgbr::backup
