// prefetch-tuner: simulate and tune vllm-ascend weight prefetch into L2 on Ascend NPUs.
#include <iostream>

#include <CLI/CLI.hpp>

#include "subcommand.h"
#include "util/error.h"
#include "util/printable.h"

namespace pt::app {

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      simulate_subcommand(),
      tune_ratio_subcommand(),
      export_profile_subcommand(),
      analyze_subcommand(),
      calibrate_subcommand(),
  };
  return table;
}

}  // namespace pt::app

int main(int argc, char** argv) {
  CLI::App app{"prefetch-tuner: simulate and tune vllm-ascend weight prefetch (CMO into L2) on Ascend 910B / A3"};
  app.require_subcommand(0, 1);
  std::function<int()> action;
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (const auto& sc : pt::app::subcommands()) {
    CLI::App* sub = app.add_subcommand(sc.name, sc.summary);
    actions.emplace_back(sub, sc.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other refusal; --help still prints the usage.
    std::cerr << "prefetch-tuner: error: " << pt::printable(e.what()) << " (see --help)\n";
    return 2;
  }
  try {
    for (auto& [sub, act] : actions) {
      if (sub->parsed()) return act();
    }
    // No subcommand: run the main job on the embedded default scenario.
    for (auto& [sub, act] : actions) {
      if (std::string(sub->get_name()) == "simulate") return act();
    }
  } catch (const pt::InputError& e) {
    // Messages quote the user's input (keys, fields, names): printable() keeps them one line.
    std::cerr << "prefetch-tuner: error: " << pt::printable(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "prefetch-tuner: internal error: " << pt::printable(e.what()) << "\n";
    return 3;
  }
  return 0;
}
