// Robustness: truncated, bit-flipped and otherwise mangled fixtures fed to the JSON and ini parsers and the models
// must end in a FormatError (or one of its kinds) or a successful load — never a crash, a hang or another
// exception. Whatever loads must save and load again to the same bytes. Deterministic (fixed seeds).
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/format_error.h"
#include "backup/info_checksum.h"
#include "backup/ini_document.h"
#include "backup/json_value.h"
#include "backup/manifest.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

class Mutator {
 public:
  explicit Mutator(std::uint32_t seed) : random_(seed) {}

  std::size_t below(std::size_t bound) {
    return bound == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
  }
  char randomByte() { return static_cast<char>(below(256)); }

  std::string mutate(std::string text) {
    static constexpr std::string_view kSignificant = "{}[]\":,=\\\n-0123456789tfnu/ ";
    const std::size_t kind = below(9);
    switch (kind) {
      case 0:  // truncate
        text.resize(below(text.size() + 1));
        break;
      case 1:  // flip a few bits
        for (std::size_t flips = 1 + below(8); flips > 0 && !text.empty(); --flips) {
          const std::size_t at = below(text.size());
          text[at] = static_cast<char>(text[at] ^ (1 << below(8)));
        }
        break;
      case 2:  // overwrite a short range with random bytes
        for (std::size_t at = below(text.size()), n = 1 + below(16); n > 0 && at < text.size(); --n, ++at)
          text[at] = randomByte();
        break;
      case 3:  // insert random bytes
        text.insert(below(text.size() + 1), std::string(1 + below(8), randomByte()));
        break;
      case 4:  // delete a range
        if (!text.empty()) text.erase(below(text.size()), 1 + below(64));
        break;
      case 5:    // duplicate a line
      case 6:    // delete a line
      case 7: {  // swap two lines
        std::vector<std::string> lines = split(text);
        if (lines.empty()) break;
        const std::size_t a = below(lines.size()), b = below(lines.size());
        if (kind == 5 || lines.size() < 2) {
          const std::string line = lines[a];
          lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(a), line);
        } else if (kind == 6) {
          lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(a));
        } else {
          std::swap(lines[a], lines[b]);
        }
        text = join(lines);
        break;
      }
      default:  // a character that means something to JSON or ini
        if (!text.empty()) text[below(text.size())] = kSignificant[below(kSignificant.size())];
    }
    return text;
  }

  std::string randomText(std::size_t maxLength) {
    static constexpr std::string_view kAlphabet = "[]{}\":,=\\\n-019tfnuabk ";
    std::string text(below(maxLength + 1), ' ');
    for (char& c : text) c = below(4) == 0 ? randomByte() : kAlphabet[below(kAlphabet.size())];
    return text;
  }

 private:
  static std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }
  static std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (std::size_t i = 0; i < lines.size(); ++i) text += (i == 0 ? "" : "\n") + lines[i];
    return text;
  }

  std::mt19937 random_;
};

// Runs `step`; a FormatError is an acceptable outcome, any other exception fails the test.
bool survives(const std::function<void()>& step, const std::string& what) {
  try {
    step();
    return true;
  } catch (const FormatError&) {
    return false;
  } catch (const std::exception& error) {
    ADD_FAILURE() << what << ": unexpected " << typeid(error).name() << ": " << error.what();
    return false;
  }
}

// Loads `text` as a Model. Failing with a FormatError is fine; once loaded, it must save, and what it saves must
// load and save again to the same bytes.
int loadedCount = 0;  // how many mangled texts loaded: the test must reach the typed code, not only fail early

template <typename Model>
void loadModel(const std::string& text, const std::string& what) {
  std::optional<Model> model;
  try {
    model.emplace(Model::parse(text, "fuzz"));
  } catch (const FormatError&) {
    return;
  }
  ++loadedCount;
  try {
    const std::string saved = model->render();
    EXPECT_EQ(Model::parse(saved, "fuzz").render(), saved) << what;
  } catch (const std::exception& error) {
    ADD_FAILURE() << what << ": loaded but does not save and reload: " << error.what();
  }
}

void loadAs(test::FormatFixtureKind kind, const std::string& text, const std::string& what) {
  switch (kind) {
    case test::FormatFixtureKind::ArchiveInfo:
      loadModel<ArchiveInfo>(text, what);
      return;
    case test::FormatFixtureKind::BackupInfo:
      loadModel<BackupInfo>(text, what);
      return;
    case test::FormatFixtureKind::Manifest:
      loadModel<Manifest>(text, what);
      return;
  }
}

// One mangled text through every layer: ini (render/parse stable), the model as is (nearly always a checksum
// error), and the model after resealing the checksum (so the typed reading itself is exercised).
void exercise(test::FormatFixtureKind kind, const std::string& text, const std::string& what) {
  survives([&] { loadAs(kind, text, what + " (model)"); }, what + " (model)");
  IniDocument document;
  if (!survives([&] { document = IniDocument::parse(text); }, what + " (ini)")) return;
  EXPECT_NO_THROW(EXPECT_EQ(IniDocument::parse(document.render()).sections(), document.sections()) << what) << what;
  survives(
      [&] {
        sealInfoDocument(document);
        loadAs(kind, document.render(), what + " (resealed model)");
      },
      what + " (resealed model)");
}

// A manifest cut down to its first files and directories (resealed), so that many mutations stay fast.
std::string shrinkManifest(const std::string& text) {
  const IniDocument full = IniDocument::parse(text);
  IniDocument small;
  for (const IniDocument::Section& section : full.sections()) {
    small.appendSection(section.name);
    const std::size_t limit = section.name == "target:file" ? 40 : section.name == "target:path" ? 8 : 1000;
    for (std::size_t i = 0; i < section.entries.size() && i < limit; ++i)
      small.add(section.name, section.entries[i].key, section.entries[i].value);
  }
  sealInfoDocument(small);
  return small.render();
}

TEST(FormatFuzz, MangledFixturesOnlyEverFailWithFormatErrors) {
  Mutator mutator(20261128);
  int runs = 0;
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    const std::string original = test::fixtureText(fixture.path);
    const bool manifest = fixture.kind == test::FormatFixtureKind::Manifest;
    // Whole manifests are ~200 KB: a few rounds on them, the many on a cut-down copy.
    const std::string small = manifest ? shrinkManifest(original) : original;
    for (int round = 0; round < 400; ++round) {
      const bool whole = manifest && round % 40 == 0;
      std::string text = mutator.mutate(whole ? original : small);
      if (mutator.below(3) == 0) text = mutator.mutate(text);
      exercise(fixture.kind, text, fixture.path + (whole ? "" : " (cut down)") + " round " + std::to_string(round));
      ++runs;
    }
  }
  EXPECT_EQ(runs, 14 * 400);
  // Most mangled texts fail on their checksum; resealed, a good share loads.
  EXPECT_GT(loadedCount, 1000) << "loaded " << loadedCount << " of " << runs;
  std::printf("fuzz: %d of %d mangled texts loaded after resealing\n", loadedCount, runs);
}

TEST(FormatFuzz, TruncatedFilesFail) {
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    const std::string original = test::fixtureText(fixture.path);
    const std::size_t step = fixture.kind == test::FormatFixtureKind::Manifest ? original.size() / 40 : 7;
    // Cut anywhere before the final LF, a file loses (part of) its checksum line: it can never load.
    for (std::size_t size = 0; size + 1 < original.size(); size += step) {
      const std::string what = fixture.path + " cut at " + std::to_string(size);
      const std::string text = original.substr(0, size);
      switch (fixture.kind) {
        case test::FormatFixtureKind::ArchiveInfo:
          EXPECT_THROW(ArchiveInfo::parse(text, "fuzz"), FormatError) << what;
          break;
        case test::FormatFixtureKind::BackupInfo:
          EXPECT_THROW(BackupInfo::parse(text, "fuzz"), FormatError) << what;
          break;
        case test::FormatFixtureKind::Manifest:
          EXPECT_THROW(Manifest::parse(text, "fuzz"), FormatError) << what;
          break;
      }
    }
  }
}

TEST(FormatFuzz, RandomTextFails) {
  Mutator mutator(42);
  for (int round = 0; round < 1500; ++round) {
    const std::string text = mutator.randomText(200);
    exercise(static_cast<test::FormatFixtureKind>(round % 3), text, "random " + std::to_string(round));
  }
}

// JSON on its own: anything accepted renders to text that parses to the same value; text without the two
// decoded-only escapes renders back byte for byte.
TEST(FormatFuzz, JsonValuesAreStable) {
  Mutator mutator(7);
  std::vector<std::string> samples;
  for (const test::FormatFixture& fixture : test::formatFixtures()) {
    if (fixture.kind == test::FormatFixtureKind::Manifest) continue;
    const IniDocument document = IniDocument::parse(test::fixtureText(fixture.path));
    for (const IniDocument::Section& section : document.sections())
      for (const IniDocument::Entry& entry : section.entries) samples.push_back(entry.value);
  }
  samples.push_back("{\"a\":[1,[2,3],{\"b\":\"\\n\\\"x\"}],\"c\":-5,\"d\":null,\"e\":false}");
  int accepted = 0;
  for (int round = 0; round < 6000; ++round) {
    const std::string text = mutator.mutate(samples[mutator.below(samples.size())]);
    JsonValue value;
    if (!survives([&] { value = JsonValue::parse(text); }, "json " + text)) continue;
    ++accepted;
    const std::string rendered = value.render();
    EXPECT_EQ(JsonValue::parse(rendered), value) << text;
    if (text.find("\\/") == std::string::npos && text.find("\\u") == std::string::npos) {
      EXPECT_EQ(rendered, text);
    }
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace pgbr::backup
