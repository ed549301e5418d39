#include "backup/backup_label.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "backup/format_error.h"

namespace pgbr::backup {
namespace {

bool allDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `YYYYMMDD-HHMMSS`
bool isTimestamp(std::string_view text) {
  return text.size() == 15 && allDigits(text.substr(0, 8)) && text[8] == '-' && allDigits(text.substr(9, 6));
}

std::string formatTimestamp(const std::tm& time) {
  char buffer[32];
  const std::size_t length = std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", &time);
  const std::string_view text(buffer, length);
  if (!isTimestamp(text)) throw std::invalid_argument("backup start time does not fit the label format");
  return std::string(text);
}

}  // namespace

std::string_view backupTypeName(BackupType type) noexcept {
  switch (type) {
    case BackupType::Full:
      return "full";
    case BackupType::Diff:
      return "diff";
    case BackupType::Incr:
      return "incr";
  }
  return "full";
}

std::optional<BackupType> parseBackupType(std::string_view name) noexcept {
  if (name == "full") return BackupType::Full;
  if (name == "diff") return BackupType::Diff;
  if (name == "incr") return BackupType::Incr;
  return std::nullopt;
}

std::optional<BackupLabel> BackupLabel::parse(std::string_view text) {
  if (text.size() == 16) {
    if (isTimestamp(text.substr(0, 15)) && text[15] == 'F') return BackupLabel(std::string(text), BackupType::Full);
    return std::nullopt;
  }
  if (text.size() != 33 || !isTimestamp(text.substr(0, 15)) || text[15] != 'F' || text[16] != '_' ||
      !isTimestamp(text.substr(17, 15)))
    return std::nullopt;
  if (text[32] == 'D') return BackupLabel(std::string(text), BackupType::Diff);
  if (text[32] == 'I') return BackupLabel(std::string(text), BackupType::Incr);
  return std::nullopt;
}

BackupLabel BackupLabel::parseOrThrow(std::string_view text) {
  std::optional<BackupLabel> label = parse(text);
  if (!label) throw FormatError("invalid backup label '" + printableForMessage(text) + "'");
  return std::move(*label);
}

BackupLabel BackupLabel::format(BackupType type, const std::optional<BackupLabel>& prior, const std::tm& start) {
  const std::string timestamp = formatTimestamp(start);
  if (type == BackupType::Full) return BackupLabel(timestamp + "F", type);
  if (!prior) throw std::invalid_argument("a diff or incr backup label needs the prior backup's label");
  return BackupLabel(std::string(prior->fullLabel()) + "_" + timestamp + (type == BackupType::Diff ? "D" : "I"), type);
}

std::optional<BackupLabel> BackupLabel::next(BackupType type, const std::optional<BackupLabel>& prior,
                                             std::time_t start, std::span<const std::string> existing,
                                             const std::function<std::tm(std::time_t)>& toLocal) {
  const std::string* latest = nullptr;
  for (const std::string& label : existing)
    if (latest == nullptr || label > *latest) latest = &label;

  for (std::time_t candidateTime : {start, start + 1}) {
    BackupLabel candidate = format(type, prior, toLocal(candidateTime));
    if (latest == nullptr || candidate.str() > *latest) return candidate;
  }
  return std::nullopt;
}

std::tm BackupLabel::localTime(std::time_t time) {
  std::tm result{};
  if (localtime_r(&time, &result) == nullptr) throw std::runtime_error("unable to convert time to local time");
  return result;
}

}  // namespace pgbr::backup
