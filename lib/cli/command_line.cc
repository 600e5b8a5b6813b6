#include "cli/command_line.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/did_you_mean.h"
#include "util/error.h"

namespace pt {

namespace {

bool looks_like_option(const std::string& a) {
  if (a.size() < 2 || a[0] != '-') return false;
  // A negative number is a value, not an option.
  return !(std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.');
}

}  // namespace

std::vector<std::string> route_to_default_subcommand(std::vector<std::string> args,
                                                     const std::vector<std::string>& subcommands,
                                                     const std::vector<std::string>& top_level_flags,
                                                     const std::string& default_subcommand) {
  if (args.empty()) return args;
  const std::string& first = args.front();
  if (std::find(subcommands.begin(), subcommands.end(), first) != subcommands.end()) return args;
  if (std::find(top_level_flags.begin(), top_level_flags.end(), first) != top_level_flags.end()) return args;
  if (looks_like_option(first)) {
    args.insert(args.begin(), default_subcommand);
    return args;
  }
  throw InputError(fmt::format("{}: not a subcommand;{} (subcommands: {}; options alone run {})", first,
                               did_you_mean(first, subcommands).empty() ? std::string(" see --help")
                                                                         : did_you_mean(first, subcommands),
                               fmt::join(subcommands, ", "), default_subcommand));
}

std::string unknown_option_message(const std::string& subcommand, const std::vector<std::string>& args,
                                   const std::vector<std::string>& known_options) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (!looks_like_option(a)) continue;
    const size_t eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (std::find(known_options.begin(), known_options.end(), name) != known_options.end()) continue;
    // Short options may be packed (-t4): the known short name and its value.
    if (name.size() > 2 && name[1] != '-' &&
        std::find(known_options.begin(), known_options.end(), name.substr(0, 2)) != known_options.end()) {
      continue;
    }
    // The value as given, after the option: "--num-token 8" for --num-token=8 or --num-token 8.
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size() && !looks_like_option(args[i + 1])) {
      value = args[i + 1];
    }
    const std::string given = value.empty() ? name : fmt::format("{} {}", name, value);
    const std::string hint = did_you_mean(name, known_options);
    return fmt::format("{}: unknown option {};{}", subcommand, given,
                       hint.empty() ? fmt::format(" see prefetch-tuner {} --help", subcommand) : hint);
  }
  return "";
}

}  // namespace pt
