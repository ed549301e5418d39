// verify (FORMAT.md §10, stricter than pgBackRest 2.45): re-read every archived WAL segment and every backup file
// of a stanza, decompress it and check its SHA-1 and size against its name (WAL) or its manifest (backup files);
// also load archive.info, backup.info and every manifest with their copies, and check that the WAL each backup
// needs to be consistent is in the archive. Reads plaintext storage (an encrypted repository is a pgbrfs mount);
// bundle members cannot be read through an encrypted mount and are reported as skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backup/command_log.h"
#include "backup/posix_storage.h"

namespace pgbr::backup {

struct VerifyOptions {
  // The repository is an encrypted pgbrfs mount: bundle files read EIO by design, so their members are skipped.
  bool encryptedMount = false;
  std::string repoPath;  // prefix of file names in log lines (the report names files relative to the repository)
};

// One file that failed, or a check that failed. `file` is relative to the repository root.
struct VerifyProblem {
  std::string file;
  std::string kind;     // "checksum mismatch", "size mismatch", "missing", "read error", "invalid info file",
                        // "invalid manifest", "WAL missing", "not in backup.info"
  std::string message;  // what exactly, e.g. "actual '…' but expected '…'"
};

// Files not checked, grouped by the file that holds them.
struct VerifySkipped {
  std::string file;     // "backup/demo/<label>/bundle/1"
  std::string reason;   // "bundle on an encrypted mount", "block incremental"
  std::uint64_t members = 0;  // manifest entries stored there
};

struct VerifyArchiveSummary {
  std::string archiveId;
  std::uint64_t checked = 0;  // WAL segment files read
  std::uint64_t valid = 0;
};

struct VerifyBackupSummary {
  std::string label;
  bool manifestValid = false;
  // Files of the manifest checked (as pgBackRest counts them: referenced files too; each stored file is read once
  // and its result reused), those valid, those skipped (not counted as checked).
  std::uint64_t checked = 0;
  std::uint64_t valid = 0;
  std::uint64_t skipped = 0;
  std::uint64_t invalid = 0;   // its own files or referenced files that failed, and missing WAL
  std::string status() const;  // "valid", "invalid", "manifest invalid"
};

struct VerifyReport {
  std::string stanza;
  std::vector<VerifyArchiveSummary> archives;  // by archive id as in archive.info history, oldest first
  std::vector<VerifyBackupSummary> backups;    // by label
  std::vector<VerifyProblem> errors;
  std::vector<VerifySkipped> skipped;
  bool ok() const { return errors.empty(); }
};

// Checks `stanza` on `repo`. Failures of single files are collected in the report (and logged at error level),
// never thrown; a progress line per archive id and backup is logged at detail level. Throws only when the
// repository cannot be listed at all (StorageError) or for std::bad_alloc. Single-threaded.
VerifyReport verifyStanza(PosixStorage& repo, std::string_view stanza, const VerifyOptions& options, CommandLog& log);

// The report for people (ends with a newline) and for programs (one JSON object, keys sorted, newline).
std::string renderVerifyText(const VerifyReport& report);
std::string renderVerifyJson(const VerifyReport& report);

}  // namespace pgbr::backup
