#include "backup/info_report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "backup/archive_info.h"
#include "backup/backup_info.h"
#include "backup/manifest.h"
#include "backup/posix_storage.h"
#include "unit/backup/format_fixtures.h"

namespace pgbr::backup {
namespace {

constexpr const char* kFull = "20261128-051348F";
constexpr const char* kDiff = "20261128-051348F_20261128-051402D";
constexpr const char* kArchiveInfo = "repo-plain/archive/demo/archive.info";
constexpr const char* kBackupInfo = "repo-plain/backup/demo/backup.info";
constexpr const char* kManifest = "repo-plain/backup/demo/20261128-051348F/backup.manifest";
constexpr const char* kSegment = "000000010000000000000005";
constexpr const char* kSha1 = "0123456789abcdef0123456789abcdef01234567";
// The text report of the fixture stanza up to its first backup.
const std::string kFixtureTextStart =
    "stanza: demo\n"
    "    status: ok\n"
    "    cipher: none\n"
    "\n"
    "    db (current)\n"
    "        wal archive min/max (15): 000000010000000000000001/000000010000000000000010\n"
    "\n"
    "        full backup: 20261128-051348F\n";

// Local time is part of the text output: run every test in UTC, like the machine that wrote the fixtures' CLI output.
class UtcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};
const auto* const kUtc = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

// A repository in a temp dir, with stanza "demo" made from the repo-plain fixtures (the two backups of the
// unencrypted repository that pgbackrest listed as repo2 in cli-output/info-before-expire.*).
class Repo {
 public:
  Repo() : storage_(dir_.path().string()) {}

  Storage& storage() { return storage_; }
  void put(const std::string& path, const std::string& text) {
    storage_.put(path, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  void putBackupInfo(const BackupInfo& info) { put("backup/demo/backup.info", info.render()); }
  void putArchiveInfo(const ArchiveInfo& info) { put("archive/demo/archive.info", info.render()); }
  void putManifest(const Manifest& manifest) {
    put("backup/demo/" + manifest.backup.label + "/backup.manifest", manifest.render());
  }
  void putWal(const std::string& archiveId, const std::string& name) {
    put("archive/demo/" + archiveId + "/" + name.substr(0, 16) + "/" + name, "");
  }

  // The fixture stanza: backup.info, archive.info, the full's manifest and WAL 000000010000000000000001..10.
  void putFixtureStanza() {
    putBackupInfo(fixtureBackupInfo());
    putArchiveInfo(ArchiveInfo::parse(test::fixtureText(kArchiveInfo), kArchiveInfo));
    putManifest(fixtureManifest());
    for (int segment = 1; segment <= 16; ++segment) {
      char name[32];
      std::snprintf(name, sizeof(name), "00000001000000000000%04X", segment);
      putWal("15-1", std::string(name) + "-" + kSha1 + ".gz");
    }
  }

  static BackupInfo fixtureBackupInfo() { return BackupInfo::parse(test::fixtureText(kBackupInfo), kBackupInfo); }
  static Manifest fixtureManifest() { return Manifest::parse(test::fixtureText(kManifest), kManifest); }

 private:
  test::TempDir dir_;
  PosixStorage storage_;
};

InfoReport collect(Repo& repo, InfoReportOptions options = {}) { return collectInfoReport(repo.storage(), options); }

// The lines of a `pgbackrest info` text output from `first` up to the next empty line (or the end), each + "\n".
std::string textBlock(const std::string& text, const std::string& first) {
  const std::size_t begin = text.find(first);
  EXPECT_NE(begin, std::string::npos) << first;
  const std::size_t end = text.find("\n\n", begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end + 1 - begin);
}

TEST(InfoReportSize, FollowsPgBackRestRounding) {
  EXPECT_EQ(formatInfoSize(0), "0B");
  EXPECT_EQ(formatInfoSize(1023), "1023B");
  EXPECT_EQ(formatInfoSize(1024), "1KB");
  EXPECT_EQ(formatInfoSize(1126), "1KB");    // 1.099: tenths digit 0 when truncated
  EXPECT_EQ(formatInfoSize(1536), "1.5KB");
  EXPECT_EQ(formatInfoSize(1048575), "1024.0KB");  // 1023.999: one decimal, rounded up
  EXPECT_EQ(formatInfoSize(1048576), "1MB");
  EXPECT_EQ(formatInfoSize(3081984), "2.9MB");
  EXPECT_EQ(formatInfoSize(4194000), "4.0MB");
  EXPECT_EQ(formatInfoSize(38860563), "37MB");
  EXPECT_EQ(formatInfoSize(30618419), "29.2MB");
  EXPECT_EQ(formatInfoSize(1ull << 30), "1GB");
  EXPECT_EQ(formatInfoSize(3ull << 29), "1.5GB");
  EXPECT_EQ(formatInfoSize(5000ull << 30), "5000GB");
}

TEST(InfoReport, BackupsMatchPgBackRestOutputForTheSameBackupInfo) {
  Repo repo;
  repo.putFixtureStanza();
  InfoReportOptions options;
  options.repoKey = 2;  // pgbackrest listed this repository as repo2
  const InfoReport report = collect(repo, options);

  const std::string expected = test::fixtureText("cli-output/info-before-expire.txt");
  const std::string text = renderInfoReportText(report);
  EXPECT_EQ(textBlock(text, "        full backup: 20261128-051348F\n"),
            textBlock(expected, "        full backup: 20261128-051348F\n"));
  EXPECT_EQ(textBlock(text, "        diff backup: 20261128-051348F_20261128-051402D\n"),
            textBlock(expected, "        diff backup: 20261128-051348F_20261128-051402D\n"));

  // Every backup object pgbackrest printed for repo-key 2, byte for byte.
  const JsonValue oracle = JsonValue::parse(test::fixtureText("cli-output/info-before-expire.json"));
  JsonValue::Array oracleBackups;
  for (const JsonValue& backup : oracle.asArray().at(0).asObject().at("backup").asArray())
    if (backup.asObject().at("database").asObject().at("repo-key").asUInt64() == 2) oracleBackups.push_back(backup);
  const JsonValue ours = infoReportJson(report);
  EXPECT_EQ(JsonValue(ours.asArray().at(0).asObject().at("backup")).render(), JsonValue(oracleBackups).render());
}

TEST(InfoReport, WholeStanzaInTextAndJson) {
  Repo repo;
  repo.putFixtureStanza();
  // Not segments: pgBackRest's WAL range ignores them.
  repo.putWal("15-1", std::string("000000010000000000000000.partial-") + kSha1 + ".gz");
  repo.putWal("15-1", "000000010000000000000011.00000028.backup");
  repo.putWal("15-1", std::string("0000000100000000000000FF-") + kSha1 + ".txt");
  repo.put("archive/demo/15-1/00000002.history", "");
  repo.put("archive/demo/15-1/0000000200000000/README", "");
  repo.put("archive/demo/15-1/notes/000000020000000000000001-" + std::string(kSha1), "");

  const InfoReport report = collect(repo);
  ASSERT_EQ(report.stanzas.size(), 1u);
  EXPECT_EQ(renderInfoReportText(report).substr(0, kFixtureTextStart.size()), kFixtureTextStart);
  const std::string json = renderInfoReportJson(report);
  EXPECT_EQ(json.substr(0, 138),
            "[{\"archive\":[{\"database\":{\"id\":1,\"repo-key\":1},\"id\":\"15-1\","
            "\"max\":\"000000010000000000000010\",\"min\":\"000000010000000000000001\"}],\"backup\":[{");
  EXPECT_EQ(json.substr(json.find("],\"cipher\"")),
            "],\"cipher\":\"none\",\"db\":[{\"id\":1,\"repo-key\":1,\"system-id\":7713086177070084308,"
            "\"version\":\"15\"}],"
            "\"name\":\"demo\",\"repo\":[{\"cipher\":\"none\",\"key\":1,\"status\":{\"code\":0,\"message\":\"ok\"}}],"
            "\"status\":{\"code\":0,\"lock\":{\"backup\":{\"held\":false}},\"message\":\"ok\"}}]");
}

TEST(InfoReport, CipherIsTheCallers) {
  Repo repo;
  repo.putFixtureStanza();
  InfoReportOptions options;
  options.cipherType = "aes-256-cbc";
  const std::string text = renderInfoReportText(collect(repo, options));
  EXPECT_NE(text.find("    cipher: aes-256-cbc\n"), std::string::npos);
}

TEST(InfoReport, NoStanzas) {
  Repo repo;
  EXPECT_EQ(renderInfoReportText(collect(repo)), "No stanzas exist in the repository.\n");
  EXPECT_EQ(renderInfoReportJson(collect(repo)), "[]");
  repo.put("backup/README", "");  // a file is listed like a stanza directory, as pgbackrest does
  EXPECT_EQ(collect(repo).stanzas.size(), 1u);
}

TEST(InfoReport, MissingStanzaPath) {
  Repo repo;
  repo.putFixtureStanza();
  InfoReportOptions options;
  options.stanza = "other";
  const InfoReport report = collect(repo, options);
  EXPECT_EQ(renderInfoReportText(report), "stanza: other\n    status: error (missing stanza path)\n");
  EXPECT_EQ(renderInfoReportJson(report),
            "[{\"archive\":[],\"backup\":[],\"cipher\":\"none\",\"db\":[],\"name\":\"other\","
            "\"repo\":[{\"cipher\":\"none\","
            "\"key\":1,\"status\":{\"code\":1,\"message\":\"missing stanza path\"}}],\"status\":{\"code\":1,\"lock\":"
            "{\"backup\":{\"held\":false}},\"message\":\"missing stanza path\"}}]");
}

TEST(InfoReport, MissingStanzaData) {
  Repo repo;
  repo.put("backup/demo/20261128-051348F/README", "");
  EXPECT_EQ(renderInfoReportText(collect(repo)),
            "stanza: demo\n    status: error (missing stanza data)\n    cipher: none\n");
}

TEST(InfoReport, NoValidBackups) {
  Repo repo;
  repo.putFixtureStanza();
  BackupInfo info = Repo::fixtureBackupInfo();
  info.backups.clear();
  repo.putBackupInfo(info);
  const InfoReport report = collect(repo);
  EXPECT_EQ(renderInfoReportText(report),
            "stanza: demo\n"
            "    status: error (no valid backups)\n"
            "    cipher: none\n"
            "\n"
            "    db (current)\n"
            "        wal archive min/max (15): 000000010000000000000001/000000010000000000000010\n");
  EXPECT_NE(renderInfoReportJson(report).find("\"status\":{\"code\":2,\"lock\":{\"backup\":{\"held\":false}},"
                                              "\"message\":\"no valid backups\"}"),
            std::string::npos);
}

TEST(InfoReport, CurrentClusterWithoutWal) {
  Repo repo;
  repo.putBackupInfo(Repo::fixtureBackupInfo());
  repo.putArchiveInfo(ArchiveInfo::parse(test::fixtureText(kArchiveInfo), kArchiveInfo));
  const InfoReport report = collect(repo);
  EXPECT_NE(renderInfoReportText(report).find("        wal archive min/max (15): none present\n"), std::string::npos);
  EXPECT_NE(renderInfoReportJson(report).find("\"id\":\"15-1\",\"max\":null,\"min\":null"), std::string::npos);
}

TEST(InfoReport, PriorClusterIsListedBeforeTheCurrentOne) {
  Repo repo;
  repo.putFixtureStanza();
  // stanza-upgrade to a new cluster (history 2, archive id 16-2); the diff belongs to it.
  BackupInfo info = Repo::fixtureBackupInfo();
  BackupHistoryEntry next = info.history.at(0);
  next.id = 2;
  next.systemId = 7713086177070084999u;
  next.version = "16";
  info.history.push_back(next);
  info.dbId = 2;
  info.backups.at(1).dbId = 2;
  repo.putBackupInfo(info);
  ArchiveInfo archive = ArchiveInfo::parse(test::fixtureText(kArchiveInfo), kArchiveInfo);
  archive.history.push_back(ArchiveHistoryEntry{2, next.systemId, "16", {}});
  archive.dbId = 2;
  repo.putArchiveInfo(archive);
  repo.putWal("16-2", std::string("000000010000000000000020-") + kSha1);
  repo.putWal("16-2", std::string("000000010000000100000003-") + kSha1 + ".zst");

  const InfoReport report = collect(repo);
  const std::string text = renderInfoReportText(report);
  const std::size_t prior = text.find("\n    db (prior)\n        wal archive min/max (15): "
                                      "000000010000000000000001/000000010000000000000010\n\n        full backup: ");
  const std::size_t current = text.find("\n    db (current)\n        wal archive min/max (16): "
                                        "000000010000000000000020/000000010000000100000003\n\n        diff backup: ");
  EXPECT_NE(prior, std::string::npos) << text;
  EXPECT_NE(current, std::string::npos) << text;
  EXPECT_LT(prior, current);
  EXPECT_NE(renderInfoReportJson(report).find(
                "\"db\":[{\"id\":1,\"repo-key\":1,\"system-id\":7713086177070084308,\"version\":\"15\"},{\"id\":2,"
                "\"repo-key\":1,\"system-id\":7713086177070084999,\"version\":\"16\"}]"),
            std::string::npos);

  // --set of the full narrows the text to its cluster.
  InfoReportOptions options;
  options.stanza = "demo";
  options.set = kFull;
  const std::string set = renderInfoReportText(collect(repo, options));
  EXPECT_NE(set.find("    db (prior)\n"), std::string::npos);
  EXPECT_EQ(set.find("db (current)"), std::string::npos);
}

TEST(InfoReport, ArchiveIdThatMatchesNoClusterIsAnError) {
  Repo repo;
  repo.putFixtureStanza();
  ArchiveInfo archive = ArchiveInfo::parse(test::fixtureText(kArchiveInfo), kArchiveInfo);
  archive.history.at(0).systemId = 1;
  repo.putArchiveInfo(archive);
  const InfoReport report = collect(repo);
  EXPECT_EQ(report.stanzas.at(0).status, InfoStatus::Other);
  EXPECT_EQ(renderInfoReportText(report),
            "stanza: demo\n"
            "    status: error (other)\n"
            "            [FormatError] unable to retrieve the archive id for database version '15' and system-id "
            "'7713086177070084308'\n"
            "            HINT: archive.info and backup.info name different clusters: was stanza-upgrade interrupted?\n"
            "    cipher: none\n");
}

TEST(InfoReport, UnloadableBackupInfoIsAnErrorNamingBothFiles) {
  Repo repo;
  repo.putFixtureStanza();
  repo.put("backup/demo/backup.info", "garbage");
  repo.put("backup/demo/backup.info.copy", test::replaceOnce(Repo::fixtureBackupInfo().render(), "db-id=1", "db-id=2"));
  InfoReportOptions options;
  options.repoPath = "/var/lib/pgbackrest";
  const InfoReport report = collect(repo, options);
  const std::string json = renderInfoReportJson(report);
  // The type is the later, different failure's (pgBackRest's rule, see info_file_loader.h).
  EXPECT_NE(json.find("\"status\":{\"code\":99,\"message\":\"[ChecksumError] unable to load info file "
                      "'/var/lib/pgbackrest/backup/demo/backup.info' or "
                      "'/var/lib/pgbackrest/backup/demo/backup.info.copy':\\nFormatError: "),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\\nChecksumError: invalid checksum in '/var/lib/pgbackrest/backup/demo/backup.info.copy'"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"status\":{\"code\":99,\"lock\":{\"backup\":{\"held\":false}},\"message\":\"other\"}"),
            std::string::npos);
  const std::string text = renderInfoReportText(report);
  EXPECT_EQ(text.rfind("stanza: demo\n    status: error (other)\n            [ChecksumError] unable to load info file "
                       "'/var/lib/pgbackrest/backup/demo/backup.info' or",
                       0),
            0u);
  EXPECT_NE(text.find("'/var/lib/pgbackrest/backup/demo/backup.info.copy':\n            FormatError: "),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 18), "\n    cipher: none\n");
}

TEST(InfoReport, SetShowsTheManifestDetailsOfOneBackup) {
  Repo repo;
  repo.putFixtureStanza();
  BackupInfo info = Repo::fixtureBackupInfo();
  info.backups.at(0).annotation = JsonValue::Object{{"key 1", "value 1"}, {"owner", "ops"}};
  info.backups.at(0).error = true;
  repo.putBackupInfo(info);
  Manifest manifest = Repo::fixtureManifest();
  manifest.targets.push_back(ManifestTarget{"pg_data/pg_wal", std::nullopt, "/wal", std::nullopt, std::nullopt,
                                            "link", {}});
  manifest.targets.push_back(ManifestTarget{"pg_data/postgresql.conf", "postgresql.conf", "/etc/pg", std::nullopt,
                                            std::nullopt, "link", {}});
  manifest.targets.push_back(ManifestTarget{"pg_tblspc/16385", std::nullopt, "/ts/one", "16385", "ts1", "link", {}});
  manifest.databases.push_back(ManifestDatabase{"app", 16384, 4, {}});
  for (ManifestFile& file : manifest.files)
    if (file.name == "pg_data/base/1/112" || file.name == "pg_data/global/1213") file.checksumPage = false;
  repo.putManifest(manifest);

  InfoReportOptions options;
  options.stanza = "demo";
  options.set = kFull;
  const InfoReport report = collect(repo, options);
  EXPECT_EQ(renderInfoReportText(report),
            kFixtureTextStart +
            "            timestamp start/stop: 2026-11-28 05:13:48 / 2026-11-28 05:13:51\n"
            "            wal start/stop: 000000010000000000000005 / 000000010000000000000006\n"
            "            lsn start/stop: 0/5000028 / 0/6000050\n"
            "            database size: 21.9MB, database backup size: 21.9MB\n"
            "            repo1: backup set size: 2.9MB, backup size: 2.9MB\n"
            "            error(s) detected during backup\n"
            "            database list: app (16384), postgres (5)\n"
            "            symlinks:\n"
            "                pg_wal => /wal\n"
            "                postgresql.conf => /etc/pg/postgresql.conf\n"
            "            tablespaces:\n"
            "                ts1 (16385) => /ts/one\n"
            "            page checksum error: base/1/112, global/1213\n"
            "            annotation(s)\n"
            "                key 1: value 1\n"
            "                owner: ops\n");
  const std::string json = renderInfoReportJson(report);
  EXPECT_NE(json.find("\"backup\":[{\"annotation\":{\"key 1\":\"value 1\",\"owner\":\"ops\"},\"archive\":"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"checksum-page-error\":[\"base/1/112\",\"global/1213\"],\"database\":{\"id\":1,\"repo-key\":1},"
                      "\"database-ref\":[{\"name\":\"app\",\"oid\":16384},{\"name\":\"postgres\",\"oid\":5}],"
                      "\"error\":true,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"link\":[{\"destination\":\"/wal\",\"name\":\"pg_wal\"},{\"destination\":"
                      "\"/etc/pg/postgresql.conf\",\"name\":\"postgresql.conf\"}],\"lsn\":"),
            std::string::npos);
  EXPECT_NE(json.find("\"tablespace\":[{\"destination\":\"/ts/one\",\"name\":\"ts1\",\"oid\":16385}]"),
            std::string::npos);
  EXPECT_EQ(json.find(kDiff), std::string::npos);  // only the --set backup is listed
}

TEST(InfoReport, SetWithoutTablespacesOrLinksGivesNull) {
  Repo repo;
  repo.putFixtureStanza();
  InfoReportOptions options;
  options.stanza = "demo";
  options.set = kFull;
  const std::string json = renderInfoReportJson(collect(repo, options));
  EXPECT_NE(json.find("\"link\":null"), std::string::npos);
  EXPECT_NE(json.find("\"tablespace\":null"), std::string::npos);
  EXPECT_EQ(json.find("checksum-page-error"), std::string::npos);
}

TEST(InfoReport, SetOfAnAbsentBackup) {
  Repo repo;
  repo.putFixtureStanza();
  InfoReportOptions options;
  options.stanza = "demo";
  options.set = kDiff;  // in backup.info, but its manifest is not in the repository
  const InfoReport report = collect(repo, options);
  EXPECT_EQ(renderInfoReportText(report),
            "stanza: demo\n    status: error (requested backup not found)\n    cipher: none\n");
  EXPECT_NE(renderInfoReportJson(report).find("\"status\":{\"code\":6,\"message\":\"requested backup not found\"}"),
            std::string::npos);
}

TEST(InfoReport, UnloadableSetManifestIsAnError) {
  Repo repo;
  repo.putFixtureStanza();
  repo.put(std::string("backup/demo/") + kDiff + "/backup.manifest", "[backrest]\n");
  InfoReportOptions options;
  options.stanza = "demo";
  options.set = kDiff;
  const InfoReport report = collect(repo, options);
  EXPECT_EQ(report.stanzas.at(0).status, InfoStatus::Other);
  EXPECT_EQ(report.stanzas.at(0).error.rfind("[FormatError] unable to load backup manifest file 'backup/demo/" +
                                                 std::string(kDiff) + "/backup.manifest' or",
                                             0),
            0u)
      << report.stanzas.at(0).error;
}

}  // namespace
}  // namespace pgbr::backup
