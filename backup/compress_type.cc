#include "backup/compress_type.h"

#include <array>
#include <stdexcept>
#include <string>

#include "backup/backup_error.h"

namespace pgbr::backup {

namespace {
struct TypeInfo {
  CompressType type;
  std::string_view name;
  std::string_view extension;
  int levelDefault;
  int levelMin;
  int levelMax;
};

// Levels as pgBackRest defines them (defaults verified for gz in 2.45; ranges from its source).
constexpr std::array<TypeInfo, 5> kTypes{{
    {CompressType::None, "none", "", 0, 0, 0},
    {CompressType::Gz, "gz", ".gz", 6, 0, 9},
    {CompressType::Bz2, "bz2", ".bz2", 9, 1, 9},
    {CompressType::Lz4, "lz4", ".lz4", 1, -5, 12},
    {CompressType::Zst, "zst", ".zst", 3, -7, 22},
}};

constexpr std::string_view kXzName = "xz";
constexpr std::string_view kXzExtension = ".xz";

const TypeInfo& info(CompressType type) {
  for (const TypeInfo& entry : kTypes)
    if (entry.type == type) return entry;
  throw std::invalid_argument("invalid compress type");
}

UnsupportedError xzUnsupported() {
  return UnsupportedError("compress type 'xz' is not supported",
                          "pgBackRest reserves xz but does not write it; use gz, bz2, lz4, zst or none");
}
}  // namespace

std::string_view compressTypeName(CompressType type) { return info(type).name; }

std::string_view compressExtension(CompressType type) { return info(type).extension; }

std::optional<CompressType> parseCompressType(std::string_view name) {
  for (const TypeInfo& entry : kTypes)
    if (entry.name == name) return entry.type;
  if (name == kXzName) throw xzUnsupported();
  return std::nullopt;
}

CompressType compressTypeFromName(std::string_view fileName) {
  for (const TypeInfo& entry : kTypes)
    if (!entry.extension.empty() && fileName.ends_with(entry.extension)) return entry.type;
  if (fileName.ends_with(kXzExtension)) throw xzUnsupported();
  return CompressType::None;
}

std::string_view stripCompressExtension(std::string_view fileName, CompressType type) {
  const std::string_view extension = compressExtension(type);
  if (!fileName.ends_with(extension))
    throw FormatError("'" + std::string(fileName) + "' must have '" + std::string(extension) + "' extension");
  return fileName.substr(0, fileName.size() - extension.size());
}

int compressLevelDefault(CompressType type) { return info(type).levelDefault; }
int compressLevelMin(CompressType type) { return info(type).levelMin; }
int compressLevelMax(CompressType type) { return info(type).levelMax; }

void checkCompressLevel(CompressType type, int level) {
  const TypeInfo& entry = info(type);
  if (level < entry.levelMin || level > entry.levelMax)
    throw std::invalid_argument("compress-level " + std::to_string(level) + " is out of range for compress type '" +
                                std::string(entry.name) + "' (" + std::to_string(entry.levelMin) + ".." +
                                std::to_string(entry.levelMax) + ")");
}

}  // namespace pgbr::backup
