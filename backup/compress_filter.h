// Compression and decompression filters for every pgBackRest compress type (FORMAT.md §6), by type or by
// codec. gz is written with Intel ISA-L and read with ISA-L; zlib (RFC 1950, pgBackRest's "raw" gz in bundles
// and block incremental) with zlib; bz2, lz4 (frame format) and zst (zstd frames) with their reference libraries.
// Every decompressor writes at most the caller's buffer per call and throws FormatError on bad data.
#pragma once

#include <memory>

#include "backup/compress_type.h"
#include "backup/filter.h"

namespace pgbr::backup {

// The compressor for `type` at `level` (checked against compressLevelMin/Max; throws std::invalid_argument),
// or null for None whatever the level. `raw` selects pgBackRest's raw variant: gz becomes a zlib stream, lz4
// drops its content checksum (as pgBackRest's source does); bz2 and zst are unchanged.
std::unique_ptr<Filter> newCompressFilter(CompressType type, int level, bool raw = false);
// The decompressor for `type`, or null for None. `raw` as above (gz reads a zlib stream).
// gz, zlib and bz2 read exactly one stream and reject trailing bytes (pgBackRest stops at the end of the first
// gzip member); lz4 and zst read one or more frames, as pgBackRest does. Empty input is an error for all.
std::unique_ptr<Filter> newDecompressFilter(CompressType type, bool raw = false);

// gz: one gzip member (RFC 1952) with pgBackRest's header 1f 8b 08 00 00000000 <xfl> 03 (mtime 0, OS Unix,
// xfl 2 for level 9, 4 for levels 0-1, else 0, as zlib writes it), compressed by ISA-L.
// pgBackRest's gz levels map onto ISA-L's four levels (see gzIsalLevel); the deflate data differs from zlib's
// (so repo sizes and rck differ from pgBackRest's for the same file) but any gzip reader accepts it.
std::unique_ptr<Filter> newGzCompress(int level);
std::unique_ptr<Filter> newGzDecompress();
// The ISA-L level (0..3) used for a pgBackRest gz level (0..9): 0 -> 0, 1 -> 1, 2-5 -> 2, 6-9 -> 3.
// Measured with bench/compress_bench.cc on heap pages and busy WAL: ISA-L 1 and 2 compress as well as zlib 1
// and 2-3 at ~10x their speed; ISA-L 3 (used for pgBackRest's default 6 and for level 9) is ISA-L's best,
// 4-9% larger than zlib 6-9 at 6-40x the speed. ISA-L 0 is its fastest and stands in for zlib's stored level 0.
int gzIsalLevel(int level);

// zlib: RFC 1950 stream (header 78 9c at level 6), zlib's deflate/inflate.
std::unique_ptr<Filter> newZlibCompress(int level);
std::unique_ptr<Filter> newZlibDecompress();

std::unique_ptr<Filter> newBz2Compress(int level);
std::unique_ptr<Filter> newBz2Decompress();

// lz4 frame format; pgBackRest enables the content checksum except in raw mode.
std::unique_ptr<Filter> newLz4Compress(int level, bool contentChecksum = true);
std::unique_ptr<Filter> newLz4Decompress();

// zstd frames as pgBackRest writes them (no checksum). Reading accepts windows up to 128 MiB (zstd's default
// limit), which covers every level pgBackRest can write.
std::unique_ptr<Filter> newZstCompress(int level);
std::unique_ptr<Filter> newZstDecompress();

}  // namespace pgbr::backup
