#include "backup/info_reader.h"

#include <charconv>

#include "backup/format_error.h"
#include "backup/info_checksum.h"

namespace pgbr::backup {

InfoReader::InfoReader(const IniDocument& document, std::string path) : document_(document), path_(std::move(path)) {
  verifyInfoDocument(document_, path_);
}

InfoHeader InfoReader::header() {
  InfoHeader header;
  JsonObjectReader backrest = section(kSectionBackrest);
  backrest.take(kKeyFormat);    // checked by the constructor
  backrest.take(kKeyChecksum);  // checked by the constructor
  header.backrestVersion = backrest.requireString(kKeyVersion);
  keepUnknown(kSectionBackrest, backrest);

  if (hasSection(kSectionCipher)) {
    JsonObjectReader cipher = section(kSectionCipher);
    if (std::optional<std::string> pass = cipher.optionalString(kKeyCipherPass))
      header.cipherPass = crypto::Secret::adopt(*pass);
    keepUnknown(kSectionCipher, cipher);
  }
  return header;
}

JsonObjectReader InfoReader::section(std::string_view name) {
  JsonValue::Object object;
  for (auto& [key, value] : entries(name)) object.emplace(std::move(key), std::move(value));
  return JsonObjectReader(std::move(object), "section '" + std::string(name) + "'");
}

std::vector<std::pair<std::string, JsonValue>> InfoReader::entries(std::string_view name) {
  consumed_.emplace(name);
  std::vector<std::pair<std::string, JsonValue>> result;
  for (const IniDocument::Section& section : document_.sections()) {
    if (section.name != name) continue;
    for (const IniDocument::Entry& entry : section.entries)
      result.emplace_back(entry.key, JsonValue::parse(entry.value));
  }
  return result;
}

void InfoReader::keepUnknown(std::string_view section, JsonObjectReader& reader) {
  for (const auto& [key, value] : reader.takeRest()) kept_.insertSorted(section, key, value.render());
}

IniDocument InfoReader::unknown() const {
  IniDocument result = kept_;
  for (const IniDocument::Section& section : document_.sections()) {
    if (consumed_.find(section.name) != consumed_.end()) continue;
    result.appendSection(section.name);
    for (const IniDocument::Entry& entry : section.entries) result.add(section.name, entry.key, entry.value);
  }
  return result;
}

std::string entryContext(std::string_view section, std::string_view key) {
  return "section '" + std::string(section) + "', key '" + printableForMessage(key) + "'";
}

unsigned parseHistoryId(std::string_view key) {
  unsigned id = 0;
  const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (key.empty() || error != std::errc() || end != key.data() + key.size() || id == 0)
    throw FormatError("invalid history id '" + printableForMessage(key) + "' in section 'db:history'");
  return id;
}

void writeInfoHeader(IniDocument& document, const InfoHeader& header) {
  document.add(kSectionBackrest, kKeyFormat, JsonValue(kRepositoryFormat).render());
  document.add(kSectionBackrest, kKeyVersion, JsonValue(header.backrestVersion).render());
  if (header.cipherPass) {
    std::string value;
    value.reserve(header.cipherPass->size() + 2);
    JsonValue::renderString(value, header.cipherPass->reveal());
    document.add(kSectionCipher, kKeyCipherPass, std::move(value));
  }
}

void finishInfoDocument(IniDocument& document, const IniDocument& unknown) {
  for (const IniDocument::Section& section : unknown.sections())
    for (const IniDocument::Entry& entry : section.entries) document.insertSorted(section.name, entry.key, entry.value);
  document.sortSections();
  sealInfoDocument(document);
}

}  // namespace pgbr::backup
