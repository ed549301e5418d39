// Where the pgbrfs daemon gets the repository's cipher type and passphrase: mount options (-o passfile=,
// -o extpass=, -o cipher-type=), a systemd credential, the environment, the pgBackRest configuration, or a prompt
// on the terminal, in one documented order. The passphrase is a crypto::Secret from the moment it is read; the
// environment variable that carried one is wiped and removed. No FUSE here: the daemon hands over its -o options.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "backup/pgbackrest_config.h"
#include "crypto/cipher_spec.h"
#include "crypto/secret.h"

namespace pgbr::fs {

// Why no usable cipher setting could be found. what() is one line in pgBackRest's voice; hint() one line telling
// the user what to do (may be empty). Never contains a passphrase.
class PassphraseError : public std::runtime_error {
 public:
  explicit PassphraseError(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }
  // what() followed by "\nHINT: " + hint() when there is a hint.
  std::string describe() const;

 private:
  std::string hint_;
};

// The daemon's options that concern the cipher. Filled from -o options with applyMountOption().
struct PassphraseOptions {
  std::optional<std::string> passfile;           // -o passfile=FILE
  std::optional<std::string> extpass;            // -o extpass=COMMAND
  std::optional<std::string> config;             // -o config=FILE (as pgBackRest's --config)
  std::optional<std::string> stanza;             // -o stanza=NAME: also read [NAME] (else PGBACKREST_STANZA)
  std::optional<crypto::CipherType> cipherType;  // -o cipher-type=none|aes-256-cbc
  unsigned repo = 1;                             // reads repo<repo>-cipher-type / -pass (not a mount option)
  backup::ConfigDefaults configDefaults;         // where pgBackRest's files are; tests point elsewhere
  int promptFd = 0;                              // the terminal to ask (stdin); asked only if isatty()

  // Takes one -o option. Returns true when it is one of the above, false when it is not ours. Throws
  // PassphraseError for a passphrase given as a mount option (pass, passphrase, password, cipher-pass,
  // repo1-cipher-pass, any secure pgBackRest option) - it would be visible in the process list - for an empty
  // value, and for a cipher-type other than none or aes-256-cbc. The caller should still wipe its own copy of
  // a refused value.
  bool applyMountOption(std::string_view key, std::string_view value);
};

struct ResolvedCipher {
  crypto::CipherType type = crypto::CipherType::None;
  std::optional<crypto::Secret> pass;  // set exactly when type is Aes256Cbc
  std::string sourceDescription;       // "passfile /etc/pgbrfs/pass", never the passphrase
  std::vector<std::string> warnings;   // one line each, possibly followed by "\nHINT: ..."; the caller prints them
};

// Resolves the cipher. Call once, at start-up, before any thread is started (it changes the process environment).
//
// The passphrase: the first of these that exists wins.
//   1. -o passfile=FILE           the file's first line; a warning if group or other can read it
//   2. -o extpass=COMMAND         /bin/sh -c COMMAND, the first line of its stdout; stdin and stderr are
//                                 inherited; a non-zero exit or a signal is an error naming the status
//   3. systemd credential         $CREDENTIALS_DIRECTORY/pgbrfs-cipher-pass, first line (skipped when absent)
//   4. environment                PGBACKREST_REPO1_CIPHER_PASS (for repo 1 also the deprecated
//                                 PGBACKREST_REPO_CIPHER_PASS)
//   5. pgBackRest configuration   repo1-cipher-pass as pgBackRest reads it: -o config=FILE or the default files
//                                 (see backup/pgbackrest_config.h), sections [STANZA] then [global]
//   6. prompt                     when promptFd is a terminal and the repository is known to be encrypted;
//                                 typed without echo
// Before step 1 the variables of step 4 are read, then every PGBACKREST_*_CIPHER_PASS variable has its value
// wiped in place and is removed, so neither extpass nor anything started later sees one. One trailing "\n" (and
// a "\r" before it) ends the line read from a file or a command; an empty passphrase is an error.
//
// The cipher type: -o cipher-type=, else repo1-cipher-type from the environment or the configuration, else
// aes-256-cbc when a passphrase was found, else none (pgBackRest's default: a plain repository).
//   - -o cipher-type=none: a plain mount; no passphrase source is read (the environment is still scrubbed).
//   - type aes-256-cbc without a passphrase: the prompt, else PassphraseError ("repository is encrypted ... but
//     no passphrase was found").
//   - repo1-cipher-type=none configured while a passphrase came from steps 1-4: PassphraseError (the two
//     disagree). A repo1-cipher-pass beside repo1-cipher-type=none in the configuration is ignored with a
//     warning, as pgBackRest ignores it.
// Throws PassphraseError for all of the above and for unreadable files and configuration errors (their text).
ResolvedCipher resolveCipher(const PassphraseOptions& options);

}  // namespace pgbr::fs
