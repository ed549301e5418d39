#include "backup/page_checksum.h"

#include <cstring>
#include <stdexcept>

namespace pgbr::backup {

namespace {

// PostgreSQL's parallel FNV-1a variant: 32 lanes over the page as a 64 x 32 matrix of 32-bit words.
constexpr std::uint32_t kLanes = 32;
constexpr std::uint32_t kFnvPrime = 16777619;
constexpr std::uint32_t kLaneSeeds[kLanes] = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

// Page header fields (PageHeaderData, native byte order: PostgreSQL writes pages as they are in memory).
constexpr std::size_t kLsnHighOffset = 0;
constexpr std::size_t kLsnLowOffset = 4;
constexpr std::size_t kChecksumOffset = 8;
constexpr std::size_t kUpperOffset = 14;
// pgBackRest counts a trailing partial page of at least this size as a torn last page; less means a damaged file.
constexpr std::size_t kMinPartialPage = 512;

inline void mix(std::uint32_t& lane, std::uint32_t value) {
  const std::uint32_t t = lane ^ value;
  lane = t * kFnvPrime ^ (t >> 17);
}

template <typename T>
T field(const std::uint8_t* page, std::size_t offset) {
  T value;
  std::memcpy(&value, page + offset, sizeof(value));
  return value;
}

}  // namespace

std::uint16_t pgPageChecksum(const std::uint8_t* page, std::uint32_t blockNo) {
  std::uint32_t lanes[kLanes];
  std::memcpy(lanes, kLaneSeeds, sizeof(lanes));
  constexpr std::size_t kRows = kPgPageSize / (sizeof(std::uint32_t) * kLanes);
  for (std::size_t row = 0; row < kRows; ++row) {
    std::uint32_t words[kLanes];
    std::memcpy(words, page + row * sizeof(words), sizeof(words));
    // The checksum field itself counts as zero.
    if (row == 0) words[kChecksumOffset / 4] &= ~static_cast<std::uint32_t>(0xFFFF);
    for (std::uint32_t lane = 0; lane < kLanes; ++lane) mix(lanes[lane], words[lane]);
  }
  for (int round = 0; round < 2; ++round)
    for (std::uint32_t lane = 0; lane < kLanes; ++lane) mix(lanes[lane], 0);
  std::uint32_t result = 0;
  for (std::uint32_t lane = 0; lane < kLanes; ++lane) result ^= lanes[lane];
  result ^= blockNo;
  return static_cast<std::uint16_t>(result % 65535 + 1);
}

bool isPageChecksummedFile(const std::string& name) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos) return false;
  const std::string dir = name.substr(0, slash), file = name.substr(slash + 1);
  if (file == "pg_filenode.map" || file == "PG_VERSION" || name == "pg_data/global/pg_control") return false;
  const auto allDigits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (dir == "pg_data/global") return true;
  if (dir.starts_with("pg_data/base/")) return allDigits(std::string_view(dir).substr(13));
  if (dir.starts_with("pg_tblspc/")) {
    // pg_tblspc/<oid>/PG_<version>_<catalog>/<database oid>
    const std::string_view rest = std::string_view(dir).substr(10);
    const auto first = rest.find('/');
    if (first == std::string_view::npos || !allDigits(rest.substr(0, first))) return false;
    const auto second = rest.find('/', first + 1);
    if (second == std::string_view::npos || !rest.substr(first + 1).starts_with("PG_")) return false;
    return allDigits(rest.substr(second + 1));
  }
  return false;
}

std::uint32_t relationSegmentNumber(const std::string& name) {
  const auto dot = name.rfind('.');
  const auto slash = name.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot + 1 == name.size()) return 0;
  std::uint32_t segment = 0;
  for (std::size_t i = dot + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    segment = segment * 10 + static_cast<std::uint32_t>(name[i] - '0');
  }
  return segment;
}

std::uint64_t parseLsn(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size() || slash > 8 || text.size() - slash > 9)
    throw std::invalid_argument("invalid LSN '" + text + "'");
  std::size_t used = 0;
  const std::string high = text.substr(0, slash), low = text.substr(slash + 1);
  if (high.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
      low.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("invalid LSN '" + text + "'");
  const std::uint64_t h = std::stoull(high, &used, 16);
  const std::uint64_t l = std::stoull(low, &used, 16);
  return h << 32 | l;
}

PageChecker::PageChecker(std::uint32_t segmentNo, std::uint64_t lsnLimit)
    : nextBlock_(segmentNo * kPgSegmentPages), lsnLimit_(lsnLimit) {}

void PageChecker::checkPage(const std::uint8_t* page, std::size_t size) {
  const std::uint32_t blockNo = nextBlock_++;
  if (!structureValid_) return;
  const std::uint64_t lsn = static_cast<std::uint64_t>(field<std::uint32_t>(page, kLsnHighOffset)) << 32 |
                            field<std::uint32_t>(page, kLsnLowOffset);
  const bool isNew = field<std::uint16_t>(page, kUpperOffset) == 0;
  const bool changedDuringBackup = lsn >= lsnLimit_;
  const bool checksumOk = size == kPgPageSize && field<std::uint16_t>(page, kChecksumOffset) == pgPageChecksum(page, blockNo);
  if (!(isNew || changedDuringBackup || checksumOk)) failed_.push_back(blockNo);
}

void PageChecker::update(ByteView data) {
  if (!partial_.empty()) {
    const std::size_t take = std::min(kPgPageSize - partial_.size(), data.size());
    partial_.insert(partial_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    if (partial_.size() < kPgPageSize) return;
    checkPage(partial_.data(), kPgPageSize);
    partial_.clear();
  }
  while (data.size() >= kPgPageSize) {
    checkPage(data.data(), kPgPageSize);
    data = data.subspan(kPgPageSize);
  }
  partial_.assign(data.begin(), data.end());
}

PageCheckResult PageChecker::finish() {
  if (!partial_.empty()) {
    aligned_ = false;
    if (partial_.size() >= kMinPartialPage)
      checkPage(partial_.data(), partial_.size());
    else
      structureValid_ = false;
    partial_.clear();
  }
  PageCheckResult result;
  result.aligned = aligned_;
  result.valid = structureValid_ && failed_.empty();
  for (std::size_t i = 0; i < failed_.size();) {
    std::size_t j = i;
    while (j + 1 < failed_.size() && failed_[j + 1] == failed_[j] + 1) ++j;
    if (j == i)
      result.errors.emplace_back(failed_[i]);
    else
      result.errors.emplace_back(JsonValue::Array{failed_[i], failed_[j]});
    i = j + 1;
  }
  return result;
}

}  // namespace pgbr::backup
