// pgbr-info-report: a test-only executable that prints backup::collectInfoReport() for a repository directory the
// way `pgbackrest info` prints it, so shell tests can diff the two. `pgbr info` replaces it once the CLI exists.
//
//   pgbr-info-report REPO_DIR [--cipher-type=none|aes-256-cbc] [--stanza=NAME] [--set=LABEL]
//                    [--output=text|json] [--repo-path=PATH]
//
// REPO_DIR is read as plain files (an unencrypted repository or a pgbrfs mount); --repo-path is the path named in
// error messages (the configured repo1-path; default REPO_DIR). Exit 0 on success, 1 on a usage or I/O error.
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "backup/info_report.h"
#include "backup/posix_storage.h"

namespace {

bool takeOption(std::string_view argument, std::string_view name, std::optional<std::string>& value) {
  const std::string prefix = "--" + std::string(name) + "=";
  if (!argument.starts_with(prefix)) return false;
  value = std::string(argument.substr(prefix.size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> repoDir, cipherType, stanza, set, output, repoPath;
  for (int index = 1; index < argc; ++index) {
    const std::string_view argument = argv[index];
    if (takeOption(argument, "cipher-type", cipherType) || takeOption(argument, "stanza", stanza) ||
        takeOption(argument, "set", set) || takeOption(argument, "output", output) ||
        takeOption(argument, "repo-path", repoPath))
      continue;
    if (argument.starts_with("--") || repoDir) {
      std::cerr << "pgbr-info-report: unexpected argument '" << argument << "'\n"
                << "usage: pgbr-info-report REPO_DIR [--cipher-type=T] [--stanza=S] [--set=LABEL] "
                   "[--output=text|json] [--repo-path=PATH]\n";
      return 1;
    }
    repoDir = std::string(argument);
  }
  if (!repoDir || (output && *output != "text" && *output != "json")) {
    std::cerr << "pgbr-info-report: a repository directory is required and --output must be text or json\n";
    return 1;
  }
  try {
    pgbr::backup::PosixStorage storage(*repoDir);
    pgbr::backup::InfoReportOptions options;
    options.cipherType = cipherType.value_or("none");
    options.stanza = stanza;
    options.set = set;
    options.repoPath = repoPath.value_or(*repoDir);
    const pgbr::backup::InfoReport report = pgbr::backup::collectInfoReport(storage, options);
    std::cout << (output.value_or("text") == "json" ? pgbr::backup::renderInfoReportJson(report)
                                                     : pgbr::backup::renderInfoReportText(report));
  } catch (const std::exception& error) {
    std::cerr << "pgbr-info-report: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
