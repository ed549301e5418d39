#include "backup/ini_document.h"

#include <algorithm>

#include "backup/format_error.h"
#include "backup/json_value.h"

namespace pgbr::backup {
namespace {

std::string lineSuffix(std::size_t lineNumber, std::string_view line) {
  return " at line " + std::to_string(lineNumber) + ": " + printableForMessage(line);
}

bool isSectionLine(std::string_view line) {
  return line.size() >= 2 && line.front() == '[' && line.back() == ']';
}

}  // namespace

std::optional<std::pair<std::string_view, std::string_view>> IniDocument::splitKeyValue(std::string_view line) {
  for (std::size_t equal = line.find('='); equal != std::string_view::npos; equal = line.find('=', equal + 1)) {
    const std::string_view value = line.substr(equal + 1);
    if (JsonValue::isValid(value)) return std::make_pair(line.substr(0, equal), value);
  }
  return std::nullopt;
}

IniDocument IniDocument::parse(std::string_view text) {
  IniDocument document;
  std::size_t lineNumber = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++lineNumber;

    if (line.empty()) continue;
    if (isSectionLine(line)) {
      // A value is never a JSON array, so a bracketed line is always a section header.
      const std::string_view name = line.substr(1, line.size() - 2);
      if (name.empty()) throw FormatError("invalid empty section" + lineSuffix(lineNumber, line));
      document.sections_.push_back(Section{std::string(name), {}});
      continue;
    }
    if (document.sections_.empty())
      throw FormatError("key/value found outside of section" + lineSuffix(lineNumber, line));
    const std::size_t firstEqual = line.find('=');
    if (firstEqual == std::string_view::npos)
      throw FormatError("missing '=' in key/value" + lineSuffix(lineNumber, line));
    const auto split = splitKeyValue(line);
    if (!split) {
      // Report why the most likely split (at the first '=') is not JSON.
      std::string reason;
      try {
        JsonValue::parse(line.substr(firstEqual + 1));
      } catch (const JsonFormatError& error) {
        reason = error.what();
      }
      throw JsonFormatError("invalid value" + lineSuffix(lineNumber, line) + " (" + reason + ")");
    }
    const auto [key, value] = *split;
    if (key.empty()) throw FormatError("key is zero-length" + lineSuffix(lineNumber, line));

    Section& section = document.sections_.back();
    if (!document.keys_.insert(indexKey(section.name, key)).second)
      throw FormatError("duplicate key '" + printableForMessage(key) + "' in section '" +
                        printableForMessage(section.name) + "'" + lineSuffix(lineNumber, line));
    section.entries.push_back(Entry{std::string(key), std::string(value)});
  }
  return document;
}

std::string IniDocument::render() const {
  std::size_t size = 0;
  for (const Section& section : sections_) {
    size += section.name.size() + 4;
    for (const Entry& entry : section.entries) size += entry.key.size() + entry.value.size() + 2;
  }
  std::string out;
  out.reserve(size);
  bool first = true;
  for (const Section& section : sections_) {
    if (!first) out += '\n';
    first = false;
    out += '[';
    out += section.name;
    out += "]\n";
    for (const Entry& entry : section.entries) {
      out += entry.key;
      out += '=';
      out += entry.value;
      out += '\n';
    }
  }
  return out;
}

const std::string* IniDocument::find(std::string_view section, std::string_view key) const {
  for (const Section& candidate : sections_) {
    if (candidate.name != section) continue;
    for (const Entry& entry : candidate.entries)
      if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

bool IniDocument::hasSection(std::string_view section) const {
  return std::any_of(sections_.begin(), sections_.end(),
                     [&](const Section& candidate) { return candidate.name == section; });
}

std::string IniDocument::indexKey(std::string_view section, std::string_view key) {
  // A section name never contains LF, so this joins without ambiguity.
  std::string joined;
  joined.reserve(section.size() + key.size() + 1);
  joined.append(section).append(1, '\n').append(key);
  return joined;
}

void IniDocument::checkNewEntry(std::string_view section, std::string_view key, std::string_view value) const {
  const auto where = [&] {
    return "key '" + printableForMessage(key) + "' in section '" + printableForMessage(section) + "'";
  };
  if (section.empty() || section.find('\n') != std::string_view::npos)
    throw FormatError("invalid section name '" + printableForMessage(section) + "'");
  if (key.empty()) throw FormatError("key is zero-length in section '" + printableForMessage(section) + "'");
  if (key.find('\n') != std::string_view::npos || value.find('\n') != std::string_view::npos)
    throw FormatError(where() + " cannot be stored: a line feed would split the line");
  if (keys_.find(indexKey(section, key)) != keys_.end()) throw FormatError("duplicate " + where());
  // The line must read back as this key and value. Without '=' in the key the split is at the first '='.
  bool readsBack = false;
  if (key.find('=') == std::string_view::npos) {
    readsBack = JsonValue::isValid(value);
  } else {
    const std::string line = std::string(key) + "=" + std::string(value);
    const auto split = splitKeyValue(line);
    readsBack = split && split->first == key;
  }
  if (!readsBack || (key.front() == '[' && !value.empty() && value.back() == ']'))
    throw FormatError(where() + " cannot be stored: value '" + printableForMessage(value) +
                      "' is not valid JSON or the line would not read back as this key");
}

void IniDocument::add(std::string_view section, std::string_view key, std::string value) {
  checkNewEntry(section, key, value);
  if (sections_.empty() || sections_.back().name != section) sections_.push_back(Section{std::string(section), {}});
  sections_.back().entries.push_back(Entry{std::string(key), std::move(value)});
  keys_.insert(indexKey(section, key));
}

void IniDocument::appendSection(std::string_view name) {
  if (name.empty() || name.find('\n') != std::string_view::npos)
    throw FormatError("invalid section name '" + printableForMessage(name) + "'");
  sections_.push_back(Section{std::string(name), {}});
}

void IniDocument::insertSorted(std::string_view section, std::string_view key, std::string value) {
  checkNewEntry(section, key, value);
  auto target = std::find_if(sections_.begin(), sections_.end(),
                             [&](const Section& candidate) { return candidate.name == section; });
  if (target == sections_.end()) {
    sections_.push_back(Section{std::string(section), {}});
    target = sections_.end() - 1;
  }
  auto position = std::find_if(target->entries.begin(), target->entries.end(),
                               [&](const Entry& entry) { return std::string_view(entry.key) > key; });
  target->entries.insert(position, Entry{std::string(key), std::move(value)});
  keys_.insert(indexKey(section, key));
}

bool IniDocument::remove(std::string_view section, std::string_view key) {
  for (auto candidate = sections_.begin(); candidate != sections_.end(); ++candidate) {
    if (candidate->name != section) continue;
    auto entry = std::find_if(candidate->entries.begin(), candidate->entries.end(),
                              [&](const Entry& e) { return e.key == key; });
    if (entry == candidate->entries.end()) continue;
    candidate->entries.erase(entry);
    if (candidate->entries.empty()) sections_.erase(candidate);
    keys_.erase(indexKey(section, key));
    return true;
  }
  return false;
}

void IniDocument::sortSections() {
  std::vector<Section> merged;
  for (Section& section : sections_) {
    auto existing = std::find_if(merged.begin(), merged.end(),
                                 [&](const Section& candidate) { return candidate.name == section.name; });
    if (existing == merged.end()) {
      merged.push_back(std::move(section));
    } else {
      for (Entry& entry : section.entries) existing->entries.push_back(std::move(entry));
    }
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const Section& a, const Section& b) { return a.name < b.name; });
  sections_ = std::move(merged);
}

}  // namespace pgbr::backup
