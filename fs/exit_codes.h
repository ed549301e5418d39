// pgbrfs exit statuses. Stable: scripts and systemd units depend on them; never renumber, only add.
#pragma once

namespace pgbr::fs {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,               // bad command line or mount options
  kExitBackingDir = 10,         // BACKING_DIR missing, not a directory, or unreadable
  kExitMountpoint = 11,         // MOUNTPOINT missing, not a directory, or already a mount point
  kExitWrongPassphrase = 12,    // the passphrase does not decrypt the repository's info files
  kExitNoPassphrase = 13,       // the repository is encrypted but no passphrase was found
  kExitNotEncrypted = 14,       // a passphrase / aes-256-cbc was given for an unencrypted repository
  kExitPassphraseSource = 15,   // a passphrase source failed (unreadable passfile, failing extpass, argv refused)
  kExitCorruptRepository = 16,  // an info file is unreadable although the passphrase opens the others
  kExitFuse = 17,               // the FUSE mount itself failed (no /dev/fuse, permission, ...)
};

}  // namespace pgbr::fs
