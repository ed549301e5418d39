// The compress-type dispatch: which codec filter implements each pgBackRest compress type, plain and raw.
#include "backup/compress_filter.h"

#include <stdexcept>

namespace pgbr::backup {

std::unique_ptr<Filter> newCompressFilter(CompressType type, int level, bool raw) {
  if (type == CompressType::None) return nullptr;  // a configured level means nothing without compression
  checkCompressLevel(type, level);
  switch (type) {
    case CompressType::None:
      return nullptr;
    case CompressType::Gz:
      return raw ? newZlibCompress(level) : newGzCompress(level);
    case CompressType::Bz2:
      return newBz2Compress(level);
    case CompressType::Lz4:
      return newLz4Compress(level, !raw);
    case CompressType::Zst:
      return newZstCompress(level);
  }
  throw std::invalid_argument("invalid compress type");
}

std::unique_ptr<Filter> newDecompressFilter(CompressType type, bool raw) {
  switch (type) {
    case CompressType::None:
      return nullptr;
    case CompressType::Gz:
      return raw ? newZlibDecompress() : newGzDecompress();
    case CompressType::Bz2:
      return newBz2Decompress();
    case CompressType::Lz4:
      return newLz4Decompress();
    case CompressType::Zst:
      return newZstDecompress();
  }
  throw std::invalid_argument("invalid compress type");
}

}  // namespace pgbr::backup
