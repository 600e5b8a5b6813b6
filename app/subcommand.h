#pragma once
// Each subcommand lives in its own file and registers here; main() only dispatches (ninja style).
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace pt::app {

struct Subcommand {
  const char* name;
  const char* summary;
  // Adds the subcommand's options to `sub` and returns the action run when it is chosen.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

const std::vector<Subcommand>& subcommands();

Subcommand simulate_subcommand();
Subcommand tune_ratio_subcommand();
Subcommand export_profile_subcommand();
Subcommand analyze_subcommand();
Subcommand calibrate_subcommand();

}  // namespace pt::app
