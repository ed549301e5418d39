#include "backup/pg_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "backup/pgbackrest_error.h"
#include "backup/unique_fd.h"

namespace pgbr::backup {

namespace {

// ControlFileData starts with system_identifier (8 bytes), pg_control_version (4), catalog_version_no (4), in the
// server's byte order (little-endian on every platform pgbr supports).
constexpr std::size_t kControlHeaderSize = 16;

// pg_control_version of each supported major version (catalog/pg_control.h).
constexpr auto kControlVersions = std::to_array<std::pair<std::string_view, std::uint32_t>>({
    {"9.6", 960}, {"10", 1002}, {"11", 1100}, {"12", 1201}, {"13", 1300},
    {"14", 1300}, {"15", 1300}, {"16", 1300}, {"17", 1700},
});

const char* kPgPathHint = "is pg1-path set to the data directory of the cluster?";

std::string readSmallFile(const std::filesystem::path& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int error = errno;
    if (error == ENOENT)
      throw CommandError(ErrorCode::FileMissing, "unable to open missing file '" + path.string() + "' for read",
                         kPgPathHint);
    throw CommandError(ErrorCode::FileOpen, "unable to open file '" + path.string() + "' for read: [" +
                                                std::to_string(error) + "] " + std::strerror(error));
  }
  std::string data(limit, '\0');
  std::size_t total = 0;
  while (total < limit) {
    const ssize_t n = ::read(fd.get(), data.data() + total, limit - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw CommandError(ErrorCode::FileRead, "unable to read file '" + path.string() + "': [" +
                                                  std::to_string(errno) + "] " + std::strerror(errno));
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  data.resize(total);
  return data;
}

}  // namespace

PgControl parsePgControl(ByteView data, const std::string& version, const std::string& fileName) {
  if (data.size() < kControlHeaderSize)
    throw CommandError(ErrorCode::Format, "control file '" + fileName + "' is too short (" +
                                              std::to_string(data.size()) + " bytes)", kPgPathHint);
  PgControl control;
  control.version = version;
  std::memcpy(&control.systemId, data.data(), 8);
  std::memcpy(&control.controlVersion, data.data() + 8, 4);
  std::memcpy(&control.catalogVersion, data.data() + 12, 4);
  for (const auto& [known, controlVersion] : kControlVersions) {
    if (known != version) continue;
    if (controlVersion != control.controlVersion)
      throw CommandError(ErrorCode::VersionNotSupported,
                         "control file '" + fileName + "' has version " + std::to_string(control.controlVersion) +
                             ", expected " + std::to_string(controlVersion) + " for PostgreSQL " + version,
                         "is the file damaged, or PG_VERSION from another cluster?");
    return control;
  }
  throw CommandError(ErrorCode::VersionNotSupported, "PostgreSQL version '" + version + "' is not supported",
                     "pgbr supports PostgreSQL 9.6 to 17");
}

PgControl readPgControl(const std::filesystem::path& pgPath) {
  std::string version = readSmallFile(pgPath / "PG_VERSION", 32);
  while (!version.empty() && (version.back() == '\n' || version.back() == '\r' || version.back() == ' '))
    version.pop_back();
  const std::filesystem::path controlFile = pgPath / "global" / "pg_control";
  const std::string control = readSmallFile(controlFile, kControlHeaderSize);
  return parsePgControl(asBytes(control), version, controlFile.string());
}

}  // namespace pgbr::backup
