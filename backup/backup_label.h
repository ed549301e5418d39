// Backup labels and types (FORMAT.md §1): full `YYYYMMDD-HHMMSSF`, diff/incr `<full label>_YYYYMMDD-HHMMSS{D,I}`,
// matching `^[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}(D|I))?$`. Parsing, formatting from a start time, the type a
// label implies, the backup.history year, and pgBackRest's rule that a new label must sort after every existing
// one (else one second later is tried) as a pure function.
#pragma once

#include <ctime>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgbr::backup {

enum class BackupType { Full, Diff, Incr };

// "full", "diff", "incr": the words of backup-type in backup.info and manifests.
std::string_view backupTypeName(BackupType type) noexcept;
std::optional<BackupType> parseBackupType(std::string_view name) noexcept;

// A value type holding a label known to be valid.
class BackupLabel {
 public:
  // nullopt unless `text` matches the label regex exactly.
  static std::optional<BackupLabel> parse(std::string_view text);
  // Throws FormatError "invalid backup label '...'" unless `text` matches.
  static BackupLabel parseOrThrow(std::string_view text);
  static bool isValid(std::string_view text) { return parse(text).has_value(); }

  // The label of a backup started at `start` (broken-down local time, as pgBackRest formats it). Diff and incr
  // labels need `prior` (any label of the set: its full part is the prefix); a full ignores it.
  // Throws std::invalid_argument for a diff/incr without prior or a time that does not fit the format.
  static BackupLabel format(BackupType type, const std::optional<BackupLabel>& prior, const std::tm& start);

  // pgBackRest's choice of a new label: the label for `start`, or if that does not sort after every label in
  // `existing` (backup directories and backup.history entries), the label for `start` + 1 s; nullopt if that
  // does not either (the caller reports a clock error: "new backup label '...' is not later than latest backup
  // label '...'" with hints about timezone changes and clock skew). `toLocal` turns seconds into local time
  // (localtime_r in production). Pure: no clock or filesystem access.
  static std::optional<BackupLabel> next(BackupType type, const std::optional<BackupLabel>& prior, std::time_t start,
                                         std::span<const std::string> existing,
                                         const std::function<std::tm(std::time_t)>& toLocal = localTime);
  // localtime_r; throws std::runtime_error if the time cannot be converted.
  static std::tm localTime(std::time_t time);

  const std::string& str() const noexcept { return text_; }
  BackupType type() const noexcept { return type_; }
  // The full backup this label belongs to (the first 16 characters; the label itself for a full).
  std::string_view fullLabel() const noexcept { return std::string_view(text_).substr(0, 16); }
  // YYYY of the backup.history directory (the first 4 characters).
  std::string_view year() const noexcept { return std::string_view(text_).substr(0, 4); }

  bool operator==(const BackupLabel& other) const { return text_ == other.text_; }
  auto operator<=>(const BackupLabel& other) const { return text_ <=> other.text_; }

 private:
  BackupLabel(std::string text, BackupType type) : text_(std::move(text)), type_(type) {}

  std::string text_;
  BackupType type_;
};

}  // namespace pgbr::backup
