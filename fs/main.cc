// pgbrfs: mounts a decrypted, read-write view of a pgBackRest repository.
//   pgbrfs [options] BACKING_DIR MOUNTPOINT
// Parses the command line (libfuse's options plus ours), finds the passphrase, checks the repository with it,
// then mounts and serves until unmounted. Exit statuses: fs/exit_codes.h (documented in pgbrfs(8)).
#include <fuse_lowlevel.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "backup/compress_type.h"
#include "backup/posix_storage.h"
#include "fs/exit_codes.h"
#include "fs/fs_error.h"
#include "fs/fuse_bridge.h"
#include "fs/log.h"
#include "fs/mount_check.h"
#include "fs/mount_table.h"
#include "fs/passphrase_source.h"
#include "fs/pgbrfs.h"
#include "fs/wal_archive_view.h"
#include "fs/snapshot_view.h"

namespace pgbr::fs {
namespace {

constexpr const char* kUsage = R"(usage: pgbrfs [options] BACKING_DIR MOUNTPOINT

Mounts a decrypted, read-write view of the pgBackRest repository in BACKING_DIR at MOUNTPOINT.

pgbrfs options (-o NAME=VALUE):
    -o config=FILE         pgBackRest configuration file (default /etc/pgbackrest/pgbackrest.conf)
    -o stanza=NAME         stanza section to read repo1-cipher-* from
    -o passfile=FILE       read the repository passphrase from the first line of FILE
    -o extpass=COMMAND     read the repository passphrase from COMMAND's output
    -o cipher-type=TYPE    aes-256-cbc or none (default: from the configuration)
    -o log-level=LEVEL     error, warn, info (default), detail or debug
    -o no-writeback        disable the kernel's writeback cache
    -o compress-type=TYPE  compression of WAL archived through archive/<stanza>/: gz (default), lz4, zst, bz2, none
    -o compress-level=N    its level (default 3 for gz, pgBackRest's default for the other types)
The passphrase is never accepted on the command line. Sources, in order: passfile, extpass, systemd credential
pgbrfs-cipher-pass, PGBACKREST_REPO1_CIPHER_PASS, the configuration file, a prompt on a terminal.

Exit status: 0 ok, 1 usage, 10 backing dir, 11 mountpoint, 12 wrong passphrase, 13 no passphrase for an encrypted
repository, 14 passphrase for an unencrypted repository, 15 passphrase source failed, 16 damaged info file,
17 FUSE mount failed. See pgbrfs(8).
)";

struct Options {
  PassphraseOptions cipher;
  std::optional<std::string> logLevel;
  std::optional<std::string> compressType;
  std::optional<std::string> compressLevel;
  bool noWriteback = false;
  bool showHelp = false;
  bool showVersion = false;
  std::optional<std::string> backingDir;
  std::optional<PassphraseError> refused;  // a cipher option that was refused (a passphrase in argv, ...)
};

enum Key { kKeyHelp, kKeyVersion };

const fuse_opt kOptions[] = {
    FUSE_OPT_KEY("-h", kKeyHelp),
    FUSE_OPT_KEY("--help", kKeyHelp),
    FUSE_OPT_KEY("-V", kKeyVersion),
    FUSE_OPT_KEY("--version", kKeyVersion),
    FUSE_OPT_END,
};

// Options mount(8) and systemd add that mean nothing to a FUSE file system.
bool ignoredMountOption(std::string_view option) {
  return option == "nofail" || option == "_netdev" || option == "noauto" || option == "auto" || option == "user" ||
         option == "users" || option == "nouser" || option == "defaults" || option.starts_with("x-systemd.") ||
         option.starts_with("x-") || option.starts_with("comment=");
}

// Our -o options; anything else goes on to libfuse.
bool takeOwnOption(Options& options, std::string_view option) {
  const std::size_t equals = option.find('=');
  const std::string_view key = option.substr(0, equals);
  const std::string_view value = equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
  if (key == "log-level") {
    options.logLevel = std::string(value);
    return true;
  }
  if (key == "compress-type") {
    options.compressType = std::string(value);
    return true;
  }
  if (key == "compress-level") {
    options.compressLevel = std::string(value);
    return true;
  }
  if (key == "no-writeback") {
    options.noWriteback = true;
    return true;
  }
  try {
    return options.cipher.applyMountOption(key, value);
  } catch (const PassphraseError& e) {
    if (!options.refused) options.refused = e;
    return true;
  }
}

int processOption(void* data, const char* arg, int key, fuse_args*) {
  Options& options = *static_cast<Options*>(data);
  switch (key) {
    case kKeyHelp:
      options.showHelp = true;
      return 0;
    case kKeyVersion:
      options.showVersion = true;
      return 0;
    case FUSE_OPT_KEY_NONOPT:
      if (!options.backingDir) {
        options.backingDir = arg;
        return 0;
      }
      return 1;  // the mountpoint, for fuse_parse_cmdline
    case FUSE_OPT_KEY_OPT:
      if (ignoredMountOption(arg) || takeOwnOption(options, arg)) return 0;
      return 1;
    default:
      return 1;
  }
}

// The WAL view's compression from -o compress-type/compress-level: gz level 3 unless told (the other types default
// to pgBackRest's level). Returns the problem when an option is invalid.
std::optional<std::string> parseWalOptions(const Options& options, WalViewOptions& wal) {
  if (options.compressType) {
    std::optional<backup::CompressType> type;
    try {
      type = backup::parseCompressType(*options.compressType);
    } catch (const std::exception&) {
    }
    if (!type) return "invalid compress-type '" + *options.compressType + "'";
    wal.compressType = *type;
    wal.compressLevel = wal.compressType == backup::CompressType::Gz ? 3 : backup::compressLevelDefault(*type);
  }
  if (options.compressLevel) {
    try {
      std::size_t used = 0;
      const int level = std::stoi(*options.compressLevel, &used);
      if (used != options.compressLevel->size()) throw std::invalid_argument("trailing characters");
      backup::checkCompressLevel(wal.compressType, level);
      wal.compressLevel = level;
    } catch (const std::exception&) {
      return "invalid compress-level '" + *options.compressLevel + "' for compress-type " +
             std::string(backup::compressTypeName(wal.compressType));
    }
  }
  return std::nullopt;
}

int fail(ExitCode code, const std::string& message, const std::string& hint = {}) {
  std::cerr << "pgbrfs: " << message << "\n";
  if (!hint.empty()) std::cerr << "HINT: " << hint << "\n";
  return code;
}

int run(int argc, char** argv) {
  fuse_args args = FUSE_ARGS_INIT(argc, argv);
  Options options;
  if (fuse_opt_parse(&args, &options, kOptions, processOption) != 0) return fail(kExitUsage, "invalid options");
  if (options.showHelp) {
    std::cout << kUsage << "\nFUSE options:\n";
    fuse_cmdline_help();
    fuse_lowlevel_help();
    return kExitOk;
  }
  if (options.showVersion) {
    std::cout << "pgbrfs " << PGBR_VERSION << " (libfuse " << fuse_pkgversion() << ")\n";
    return kExitOk;
  }
  if (options.refused) return fail(kExitPassphraseSource, options.refused->what(), options.refused->hint());
  if (options.logLevel) {
    const std::optional<LogLevel> level = parseLogLevel(*options.logLevel);
    if (!level) return fail(kExitUsage, "invalid log-level '" + *options.logLevel + "'",
                            "use error, warn, info, detail or debug");
    setLogLevel(*level);
  }
  WalViewOptions walOptions;
  if (std::optional<std::string> problem = parseWalOptions(options, walOptions))
    return fail(kExitUsage, *problem, "compress-type takes gz, lz4, zst, bz2 or none; compress-level an integer in "
                                      "the type's range (gz 0-9, bz2 1-9, lz4 -5-12, zst -7-22)");

  fuse_cmdline_opts cmdline{};
  // More workers than the kernel keeps writes in flight (max_background, 12): a write waiting for its predecessor
  // (StagedFile) must never hold the last free worker. An explicit -o max_threads= wins.
  bool maxThreadsGiven = false;
  for (int i = 0; i < args.argc; i++) maxThreadsGiven |= std::string_view(args.argv[i]).find("max_threads=") != std::string_view::npos;
  if (fuse_parse_cmdline(&args, &cmdline) != 0) return fail(kExitUsage, "invalid command line", "see pgbrfs --help");
  if (!maxThreadsGiven) cmdline.max_threads = 32;
  std::unique_ptr<char, decltype(&std::free)> mountpoint(cmdline.mountpoint, &std::free);
  if (!options.backingDir || !mountpoint)
    return fail(kExitUsage, "missing BACKING_DIR or MOUNTPOINT", "usage: pgbrfs [options] BACKING_DIR MOUNTPOINT");

  struct stat st {};
  if (::stat(options.backingDir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(kExitBackingDir, "backing directory '" + *options.backingDir + "' does not exist or is not a directory",
                "give the repository directory (repo1-path) as BACKING_DIR");
  if (::stat(mountpoint.get(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(kExitMountpoint, std::string("mountpoint '") + mountpoint.get() + "' does not exist or is not a directory",
                "create it with mkdir");
  if (mountedDevice(mountpoint.get()))
    return fail(kExitMountpoint, std::string("mountpoint '") + mountpoint.get() + "' is already a mount point",
                std::string("unmount it first (fusermount3 -u ") + mountpoint.get() + ")");

  // The process holds key material from here on: keep it out of core dumps and ptrace by other users.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  crypto::CipherSpec spec = crypto::CipherSpec::none();
  try {
    ResolvedCipher resolved = resolveCipher(options.cipher);
    for (const std::string& warning : resolved.warnings) log(LogLevel::Warn, warning);
    if (resolved.type == crypto::CipherType::Aes256Cbc) {
      if (!resolved.pass) return fail(kExitNoPassphrase, "cipher type aes-256-cbc but no passphrase was found");
      spec = crypto::CipherSpec::aes256Cbc(std::move(*resolved.pass));
    }
    log(LogLevel::Detail, "cipher " + std::string(crypto::cipherTypeName(spec.type())) + ", passphrase from " +
                              resolved.sourceDescription);
  } catch (const PassphraseError& e) {
    return fail(kExitPassphraseSource, e.what(), e.hint());
  }

  std::unique_ptr<PgbrFs> filesystem;
  try {
    backup::PosixStorage storage(*options.backingDir);
    const MountCheck check = checkRepository(storage, spec);
    if (check.code != kExitOk) return fail(check.code, check.message, check.hint);
    if (check.infoFilesChecked == 0)
      log(LogLevel::Info, "repository '" + *options.backingDir + "' is empty: nothing to check (run stanza-create)");
    filesystem = std::make_unique<PgbrFs>(FsOptions{*options.backingDir, spec, !options.noWriteback});
    filesystem->addView(std::make_unique<WalArchiveView>(*filesystem, walOptions));
    filesystem->addView(std::make_unique<SnapshotView>(*filesystem));
  } catch (const FsError& e) {
    if (e.errorNumber() == EBUSY)
      return fail(kExitBackingDir, e.what(), "unmount it first (findmnt -t fuse.pgbrfs lists pgbrfs mounts)");
    return fail(kExitBackingDir, e.what());
  } catch (const std::exception& e) {
    return fail(kExitBackingDir, e.what());
  }

  // findmnt, df and /proc/mounts show "fuse.pgbrfs" and the backing directory (commas would end the option).
  {
    char resolved[PATH_MAX];
    std::string source = ::realpath(options.backingDir->c_str(), resolved) != nullptr ? resolved : *options.backingDir;
    std::replace(source.begin(), source.end(), ',', '_');
    const std::string naming = "-osubtype=pgbrfs,fsname=" + source;
    fuse_opt_insert_arg(&args, 1, naming.c_str());
  }
  FuseBridge bridge{*filesystem, {}, mountpoint.get(), {}};
  fuse_session* session = fuse_session_new(&args, &fuseOperations(), sizeof(fuse_lowlevel_ops), &bridge);
  fuse_opt_free_args(&args);
  if (session == nullptr) return fail(kExitUsage, "invalid FUSE options", "see pgbrfs --help");
  if (fuse_session_mount(session, mountpoint.get()) != 0) {
    fuse_session_destroy(session);
    return fail(kExitFuse, std::string("unable to mount on '") + mountpoint.get() + "'",
                "is /dev/fuse available? non-root users need fusermount3 and 'user_allow_other' for allow_other");
  }
  if (fuse_daemonize(cmdline.foreground) != 0) {
    fuse_session_unmount(session);
    fuse_session_destroy(session);
    return fail(kExitFuse, "unable to daemonize");
  }
  if (!cmdline.foreground) useSyslog();
  log(LogLevel::Info, "mounted '" + *options.backingDir + "' on '" + mountpoint.get() + "' (cipher " +
                          std::string(crypto::cipherTypeName(spec.type())) + ")");
  fuse_set_signal_handlers(session);
  int rc = 0;
  if (cmdline.singlethread) {
    rc = fuse_session_loop(session);
  } else {
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(config, static_cast<unsigned int>(cmdline.clone_fd));
    fuse_loop_cfg_set_max_threads(config, cmdline.max_threads);
    rc = fuse_session_loop_mt(session, config);
    fuse_loop_cfg_destroy(config);
  }
  fuse_remove_signal_handlers(session);
  fuse_session_unmount(session);
  fuse_session_destroy(session);
  log(LogLevel::Info, "unmounted '" + std::string(mountpoint.get()) + "'");
  return rc == 0 ? kExitOk : kExitFuse;
}

}  // namespace
}  // namespace pgbr::fs

int main(int argc, char** argv) {
  try {
    return pgbr::fs::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "pgbrfs: " << e.what() << "\n";
    return pgbr::fs::kExitUsage;
  }
}
