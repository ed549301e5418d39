// archive-push of one WAL file into a stanza's archive (FORMAT.md §7.1), as pgBackRest 2.45 stores it: the page
// header checked against archive.info, segments and partials named "<name>-<sha1>[.ext]" and compressed, history
// and backup history files copied as they are, every file written "<name>.pgbackrest.tmp" then renamed. The
// storage is plaintext (an encrypted repository is a pgbrfs mount that encrypts what is written to it).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "backup/archive_info.h"
#include "backup/compress_type.h"
#include "backup/pg_control.h"
#include "backup/storage.h"

namespace pgbr::backup {

struct ArchivePushOptions {
  CompressType compressType = CompressType::Gz;
  std::optional<int> compressLevel;    // nullopt: pgBackRest's default for the type
  bool headerCheck = true;             // archive-header-check: compare the WAL page header with archive.info
  std::optional<PgControl> cluster;    // from pg1-path when known: compared with archive.info first
};

struct ArchivePushResult {
  enum class Outcome { Pushed, AlreadyExists };
  Outcome outcome = Outcome::Pushed;
  std::string archiveId;  // "15-1"
  std::string repoFile;   // repository path written (or found): "archive/demo/15-1/0000000100000000/<name>-<sha1>.gz"
};

// Pushes the WAL file at `walPath` (its file name must be a WAL name PostgreSQL archives) using the already
// loaded `archiveInfo`. A segment already archived with the same checksum is not written again (Outcome::
// AlreadyExists; pgBackRest warns and succeeds). Throws CommandError: ParamInvalid for a name that is not WAL,
// FileMissing when `walPath` does not exist, ArchiveMismatch when the cluster or the WAL header does not match
// archive.info, ArchiveDuplicate when the segment is archived with a different checksum (nothing is written).
// Storage errors propagate.
ArchivePushResult archivePush(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                              const std::filesystem::path& walPath, const ArchivePushOptions& options);

// The SHA-1 and the compressed form of WAL content, computed by the caller while the content arrived (pgbrfs's
// WAL inbox streams them as the writer's bytes come in, so that little is left to do at close).
struct PreparedWal {
  std::string sha1Hex;
  CompressType compressType = CompressType::Gz;  // used only when it is options.compressType
  Bytes compressed;                              // empty for CompressType::None
};

// The same for WAL content already in memory (pgbrfs's WAL inbox): `walName` is the file name (no directory),
// `wal` its content, `prepared` (optional) its SHA-1 and compressed bytes. Same outcomes and errors, except
// FileMissing.
ArchivePushResult archivePushBytes(Storage& storage, std::string_view stanza, const ArchiveInfo& archiveInfo,
                                   std::string_view walName, ByteView wal, const ArchivePushOptions& options,
                                   const PreparedWal* prepared = nullptr);

}  // namespace pgbr::backup
