// pgBackRest's compress types (FORMAT.md §6): option names, file extensions and levels. The extension of a
// repository file says how to decompress it; `none` has no extension. xz is recognised, as pgBackRest
// reserves it, but never supported.
#pragma once

#include <optional>
#include <string_view>

namespace pgbr::backup {

enum class CompressType { None, Gz, Bz2, Lz4, Zst };

// The `compress-type` option value: "none", "gz", "bz2", "lz4", "zst".
std::string_view compressTypeName(CompressType type);
// The repository file extension: "", ".gz", ".bz2", ".lz4", ".zst".
std::string_view compressExtension(CompressType type);

// Parses a `compress-type` option value. Returns nullopt for a name pgBackRest does not know; throws
// UnsupportedError for "xz".
std::optional<CompressType> parseCompressType(std::string_view name);
// The compress type of a repository file from its name's extension; None when it has no compression
// extension. Throws UnsupportedError for a ".xz" file.
CompressType compressTypeFromName(std::string_view fileName);
// `fileName` without the extension of `type`; throws FormatError when it does not end with it
// ("'<file>' must have '.gz' extension", pgBackRest's wording).
std::string_view stripCompressExtension(std::string_view fileName, CompressType type);

// pgBackRest's `compress-level` default per type: gz 6, bz2 9, lz4 1, zst 3 (none 0).
int compressLevelDefault(CompressType type);
// The accepted `compress-level` range per type: gz 0..9, bz2 1..9, lz4 -5..12, zst -7..22 (none 0..0).
int compressLevelMin(CompressType type);
int compressLevelMax(CompressType type);
// Throws std::invalid_argument when `level` is outside [min, max] for `type`.
void checkCompressLevel(CompressType type, int level);

}  // namespace pgbr::backup
