#include "unit/backup/format_fixtures.h"

#include <gtest/gtest.h>

#include "backup/info_checksum.h"
#include "backup/ini_document.h"

namespace pgbr::test {

std::string replaceOnce(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not found";
  if (at == std::string::npos) return text;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "'" << from << "' occurs more than once";
  return text.replace(at, from.size(), to);
}

std::string reseal(const std::string& text) {
  backup::IniDocument document = backup::IniDocument::parse(text);
  backup::sealInfoDocument(document);
  return document.render();
}

}  // namespace pgbr::test
