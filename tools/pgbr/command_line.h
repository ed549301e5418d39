// pgbr's command line in pgBackRest's conventions: `pgbr [options] COMMAND [options] [args]`, options as
// --name=value or --name value, booleans as --name / --no-name, --reset-name to ignore the configured value.
// Parsed with Boost.Program_options against the option table; the result feeds backup::PgBackRestConfig.
#pragma once

#include <string>
#include <vector>

#include "backup/pgbackrest_config.h"

namespace pgbr::tools {

struct ParsedCommandLine {
  std::string command;                        // empty when none was given
  std::vector<std::string> arguments;         // after the command
  backup::CommandLineOptions options;         // {"repo1-path", "/x"}, {"no-archive-header-check", ""}, ...
};

// Throws backup::CommandError: OptionInvalid for an unknown option (with a "did you mean" hint), an option given
// twice, a value for a boolean, a secure option (repo1-cipher-pass) or an option not valid for the command;
// CommandInvalid for an unknown command; ParamInvalid for a wrong number of arguments.
ParsedCommandLine parseCommandLine(int argc, const char* const argv[]);

}  // namespace pgbr::tools
