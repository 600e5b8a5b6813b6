// prefetch-tuner: simulate and tune vllm-ascend weight prefetch into L2 on Ascend NPUs.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "subcommand.h"
#include "util/error.h"
#include "util/file_io.h"
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

namespace {

// One line on stderr, never the whole of a huge input that a message quotes.
void print_error(const char* kind, const char* what) {
  std::cerr << "prefetch-tuner: " << kind << ": " << pt::excerpt(what, pt::kMaxErrorMessageBytes) << "\n";
}

// The report may still sit in stdout's buffer: a full disk or a closed pipe shows only now. A
// run that failed already has said why, once.
int finish(int code) {
  if (code != 0) {
    std::fclose(stdout);
    return code;
  }
  try {
    pt::close_stdout();
  } catch (const pt::InputError& e) {
    print_error("error", e.what());
    return code == 0 ? 2 : code;
  }
  return code;
}

int run(int argc, char** argv) {
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
    print_error("error", (std::string(e.what()) + " (see --help)").c_str());
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
    // Messages quote the user's input (keys, fields, names): excerpt() keeps them one short line.
    print_error("error", e.what());
    return 2;
  } catch (const std::exception& e) {
    print_error("internal error", e.what());
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  pt::guard_standard_streams();
  pt::install_output_cleanup();
  return finish(run(argc, argv));
}
