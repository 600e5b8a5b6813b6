#pragma once
// The command line as people type it: options without a subcommand go to the default one, and a
// mistyped subcommand or option gets the names it was probably meant to be.
#include <string>
#include <vector>

namespace pt {

// `args` without the program name. Options given before any subcommand (`--model Qwen3-8B`) are
// the default subcommand's: it is put in front of them. The top-level flags (--help, --version)
// and an empty command line are left as they are. A first word that is no subcommand is an
// InputError with the closest subcommand names.
std::vector<std::string> route_to_default_subcommand(std::vector<std::string> args,
                                                     const std::vector<std::string>& subcommands,
                                                     const std::vector<std::string>& top_level_flags,
                                                     const std::string& default_subcommand);

// The first word of `args` (a subcommand's arguments, after its name) that looks like an option
// and is none of `known_options` (every name and alias, with its dashes), as one sentence: the
// option, then its value, then the closest known names:
//   "simulate: unknown option --tensor-paralel 4; did you mean --tensor-parallel-size?"
// "" when every option is known.
std::string unknown_option_message(const std::string& subcommand, const std::vector<std::string>& args,
                                   const std::vector<std::string>& known_options);

}  // namespace pt
