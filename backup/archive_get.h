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

namespace pgbr::backup {

struct ArchiveGetResult {
  std::string archiveId;  // where it was found: "15-1"
  std::string repoFile;   // repository path read
};

// Copies `walName` to `destination`. Returns nullopt when the archive does not have it (not an error:
// PostgreSQL asks for files that do not exist yet). `cluster` selects the archive ids (nullopt: archive.info's
// current database). Throws CommandError: ParamInvalid for a name that is not WAL, ArchiveDuplicate when a
// segment is stored with more than one checksum, Checksum when the content does not match its name (the
// destination is then not written), FileWrite for the destination; decompression errors propagate.
std::optional<ArchiveGetResult> archiveGet(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                                           std::string_view walName, const std::filesystem::path& destination,
                                           const std::optional<PgControl>& cluster);

}  // namespace pgbr::backup
