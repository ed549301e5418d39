// pgbr-cipher: encrypts and decrypts single files in pgBackRest's cipher block format (stdin to stdout),
// for inspection and emergencies without a mount. The passphrase comes from a file or the environment,
// never from the command line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "crypto/cipher_stream.h"
#include "crypto/crypto_error.h"
#include "crypto/random_access_decryptor.h"
#include "crypto/secret.h"
#include "crypto/sub_pass.h"

namespace pgbr::tools {
namespace {

// Exit codes (stable; documented in the usage text).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitCipher = 2;  // malformed ciphertext or wrong passphrase
constexpr int kExitIo = 3;

constexpr const char* kUsage = R"(usage: pgbr-cipher COMMAND [--pass-file=FILE] [< INPUT] [> OUTPUT]

Commands:
  encrypt    encrypt stdin to stdout ("Salted__" AES-256-CBC, as pgBackRest and `openssl enc -md sha1` write it)
  decrypt    decrypt stdin to stdout
  size FILE  print the plaintext size of an encrypted FILE, read from its last two cipher blocks
  sub-pass   print a new sub-passphrase as pgBackRest generates them (64 base64 characters)

The passphrase is read from --pass-file=FILE (first line) or the environment variable PGBR_CIPHER_PASS;
it is never accepted on the command line.

Exit status: 0 success, 1 usage error, 2 cipher error (not encrypted, truncated, wrong passphrase), 3 I/O error.
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

crypto::Secret readPassphrase(const std::optional<std::string>& passFile) {
  std::string text;
  if (passFile) {
    std::ifstream in(*passFile);
    if (!in) throw IoError("unable to open passphrase file '" + *passFile + "': " + std::strerror(errno));
    std::getline(in, text);
  } else if (const char* env = std::getenv("PGBR_CIPHER_PASS")) {
    text = env;
    ::unsetenv("PGBR_CIPHER_PASS");  // keep it out of /proc/<pid>/environ of anything we start
  } else {
    throw UsageError("no passphrase: use --pass-file=FILE or set PGBR_CIPHER_PASS");
  }
  if (text.empty()) throw UsageError("the passphrase is empty");
  return crypto::Secret::adopt(text);
}

void writeAll(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(std::string("unable to write output: ") + std::strerror(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void streamStdio(crypto::CipherStream& stream) {
  std::vector<std::uint8_t> in(1 << 20), out((1 << 20) + 64);
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(std::string("unable to read input: ") + std::strerror(errno));
    if (n == 0) break;
    ByteView pending(in.data(), static_cast<std::size_t>(n));
    while (!pending.empty()) {
      const crypto::CipherStream::Step step = stream.process(pending, out);
      writeAll(STDOUT_FILENO, out.data(), step.produced);
      pending = pending.subspan(step.consumed);
    }
  }
  while (!stream.finished()) writeAll(STDOUT_FILENO, out.data(), stream.finish(out));
}

int printSize(const crypto::Secret& pass, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("unable to open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  auto readAt = [fd, &path](std::uint64_t offset, MutableByteView out) {
    const ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n != static_cast<ssize_t>(out.size())) throw IoError("unable to read '" + path + "'");
  };
  std::uint8_t header[16] = {};
  const ssize_t got = ::pread(fd, header, sizeof(header), 0);
  crypto::RandomAccessDecryptor reader(pass, ByteView(header, got > 0 ? static_cast<std::size_t>(got) : 0),
                                       static_cast<std::uint64_t>(st.st_size));
  std::cout << reader.plainSize(readAt) << "\n";
  ::close(fd);
  return kExitOk;
}

int run(int argc, char** argv) {
  std::optional<std::string> passFile;
  std::vector<std::string> args;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg.starts_with("--pass-file=")) {
      passFile = arg.substr(12);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return kExitOk;
    } else if (arg.starts_with("--pass=") || arg.starts_with("--passphrase")) {
      throw UsageError("the passphrase is not allowed on the command line (it would show in ps and shell history)");
    } else {
      args.push_back(arg);
    }
  }
  if (args.empty()) throw UsageError("no command given");
  const std::string& command = args[0];
  if (command == "sub-pass") {
    std::cout << crypto::generateSubPass().reveal() << "\n";
    return kExitOk;
  }
  if (command == "encrypt" || command == "decrypt") {
    const crypto::Secret pass = readPassphrase(passFile);
    crypto::CipherStream stream(
        command == "encrypt" ? crypto::CipherStream::Mode::Encrypt : crypto::CipherStream::Mode::Decrypt, pass);
    streamStdio(stream);
    return kExitOk;
  }
  if (command == "size" && args.size() == 2) return printSize(readPassphrase(passFile), args[1]);
  throw UsageError("unknown command or wrong arguments: " + command);
}

}  // namespace
}  // namespace pgbr::tools

int main(int argc, char** argv) {
  using namespace pgbr::tools;
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "pgbr-cipher: " << e.what() << "\nHINT: see pgbr-cipher --help\n";
    return kExitUsage;
  } catch (const pgbr::crypto::CryptoError& e) {
    std::cerr << "pgbr-cipher: " << e.what() << "\n";
    if (!e.hint().empty()) std::cerr << "HINT: " << e.hint() << "\n";
    return kExitCipher;
  } catch (const std::exception& e) {
    std::cerr << "pgbr-cipher: " << e.what() << "\n";
    return kExitIo;
  }
}
