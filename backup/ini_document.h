// pgBackRest's "strict ini" (FORMAT.md §4): `[section]` lines and `key=value` lines whose value is JSON text,
// the container of info files and manifests. A document keeps sections and keys exactly in file order (a section
// name may occur twice, as the trailing `[backrest]` checksum section does) and values as raw text, so render()
// gives back the input byte for byte for anything laid out the way pgBackRest writes it (one blank line between
// sections, a single trailing LF). It knows nothing of checksums or of what the keys mean.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace pgbr::backup {

// A value type: copies are independent, and const access from several threads is safe.
class IniDocument {
 public:
  struct Entry {
    std::string key;
    std::string value;  // raw JSON text, exactly as in the file
    bool operator==(const Entry&) const = default;
  };
  struct Section {
    std::string name;
    std::vector<Entry> entries;
    bool operator==(const Section&) const = default;
  };

  IniDocument() = default;

  // Parses strict ini the way pgBackRest 2.45 reads it: lines split at LF, empty lines skipped, no comments, no
  // trimming; a line `[name]` starts a section; any other line is `key=value`, split at the first `=` after
  // which the rest is valid JSON (keys may contain `=`). A key may occur only once per section name.
  // Throws FormatError naming the line number ("key/value found outside of section at line 1: ..."), or
  // JsonFormatError when no split leaves valid JSON (the reason given is the one for the first `=`).
  static IniDocument parse(std::string_view text);

  // `[name]\n` + `key=value\n` per entry for every section in order, sections separated by one empty line.
  std::string render() const;

  const std::vector<Section>& sections() const noexcept { return sections_; }
  bool empty() const noexcept { return sections_.empty(); }
  // The raw value of `key` in section `section` (any occurrence of the section), or nullptr.
  const std::string* find(std::string_view section, std::string_view key) const;
  bool hasSection(std::string_view section) const;

  // Appends an entry to the last section if it is named `section`, else to a new section at the end.
  // Throws FormatError if the key already exists in that section name or if the line would not read back as
  // this key and value (empty key, LF in key or value, value not valid JSON, line that looks like a section).
  void add(std::string_view section, std::string_view key, std::string value);
  // Starts a new, empty section at the end; the following add() calls for `name` fill it.
  void appendSection(std::string_view name);
  // Inserts an entry into the first section named `section`, before the first key that sorts after it (or
  // appends a new section). Same checks as add().
  void insertSorted(std::string_view section, std::string_view key, std::string value);
  // Removes an entry; a section left without entries is removed too. Returns whether the entry existed.
  bool remove(std::string_view section, std::string_view key);
  // Merges sections of the same name (keeping entry order) and orders sections by name in byte order, which
  // is how pgBackRest lays out what it writes (FORMAT.md §4).
  void sortSections();

  // Splits a `key=value` line at the first `=` after which the remainder is valid JSON; nullopt if none is.
  static std::optional<std::pair<std::string_view, std::string_view>> splitKeyValue(std::string_view line);

 private:
  void checkNewEntry(std::string_view section, std::string_view key, std::string_view value) const;

  std::vector<Section> sections_;
  static std::string indexKey(std::string_view section, std::string_view key);

  std::unordered_set<std::string> keys_;  // indexKey() of every entry, for duplicate checks
};

}  // namespace pgbr::backup
