// Checks made before mounting, so that a wrong or missing passphrase is reported at mount time with its own exit
// status instead of as EIO on every file later: every stanza's archive.info and backup.info (or .copy) must open
// with the configured cipher and passphrase.
#pragma once

#include <string>

#include "backup/posix_storage.h"
#include "crypto/cipher_spec.h"
#include "fs/exit_codes.h"

namespace pgbr::fs {

struct MountCheck {
  ExitCode code = kExitOk;
  std::string message;  // what is wrong, naming the file
  std::string hint;     // what to do
  int infoFilesChecked = 0;
};

MountCheck checkRepository(backup::PosixStorage& storage, const crypto::CipherSpec& spec);

}  // namespace pgbr::fs
