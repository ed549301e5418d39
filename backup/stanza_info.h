// The two info files of a stanza as the tools see them: plaintext, because an encrypted repository is reached
// through a pgbrfs mount that decrypts (backup/repo_encryption.h). Paths, loading with pgBackRest's main-then-.copy
// fallback and the hints pgBackRest gives, and the check that a stanza belongs to a cluster (FORMAT.md §4, §7).
#pragma once

#include <string>
#include <string_view>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/info_file_loader.h"
#include "backup/pg_control.h"
#include "backup/storage.h"

namespace pgbr::backup {

// "archive/<stanza>", "archive/<stanza>/archive.info", "backup/<stanza>", "backup/<stanza>/backup.info".
std::string stanzaArchivePath(std::string_view stanza);
std::string stanzaBackupPath(std::string_view stanza);
std::string archiveInfoPath(std::string_view stanza);
std::string backupInfoPath(std::string_view stanza);

// Reads files of `storage` as plaintext (std::nullopt when missing). `storage` must outlive the reader.
InfoFileReader plainInfoReader(Storage& storage);

// archive.info of `stanza` for archive-push, archive-get and check. Throws CommandError(RepoInvalid) when neither
// file loads, with pgBackRest's hints (stanza-create, archive_command); `repoPath` names the repository.
ArchiveInfo loadStanzaArchiveInfo(Storage& storage, std::string_view stanza, const std::string& repoPath);
// backup.info of `stanza`. Throws CommandError (FileMissing when neither file exists, else the load error).
BackupInfo loadStanzaBackupInfo(Storage& storage, std::string_view stanza, const std::string& repoPath);

// Throws CommandError(FileInvalid) unless archive.info and backup.info both describe `cluster` as their current
// database (version and system id; backup.info also its catalog and control versions).
void checkStanzaMatchesCluster(const ArchiveInfo& archive, const BackupInfo& backup, const PgControl& cluster);

// Throws CommandError(ArchiveMismatch) unless archive.info's current database is `cluster` (version and system id).
void checkArchiveMatchesCluster(const ArchiveInfo& archive, const PgControl& cluster);

}  // namespace pgbr::backup
