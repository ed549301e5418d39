// stanza-create (pgBackRest 2.45 semantics): write archive.info and backup.info (+ .copy) for a cluster into an
// empty stanza, with fresh archive and backup sub-passes when the repository is encrypted (FORMAT.md §3, §4);
// accept a stanza that already matches the cluster, restoring a missing main or .copy file from its twin; refuse
// everything else. Plaintext storage: an encrypted repository is a pgbrfs mount that encrypts on write.
#pragma once

#include <string_view>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/pg_control.h"
#include "backup/storage.h"

namespace pgbr::backup {

struct StanzaCreateResult {
  enum class Outcome {
    Created,       // both info files written
    AlreadyValid,  // both existed and match the cluster: nothing written
    Repaired,      // both existed and match; a missing main or .copy file was restored from the other
  };
  Outcome outcome = Outcome::Created;
};

// The info files of a new stanza for `cluster`, history id 1. With `encrypted`, each gets its own new sub-pass.
ArchiveInfo newArchiveInfo(const PgControl& cluster, bool encrypted);
BackupInfo newBackupInfo(const PgControl& cluster, bool encrypted);

// Throws CommandError: PathNotEmpty when neither info file exists but the stanza's archive or backup directory
// holds something; FileMissing when one info file (main and copy) exists without the other; FileInvalid when the
// existing files do not match the cluster or each other; load errors of the existing files.
StanzaCreateResult stanzaCreate(Storage& storage, std::string_view stanza, const PgControl& cluster, bool encrypted);

}  // namespace pgbr::backup
