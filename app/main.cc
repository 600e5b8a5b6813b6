// prefetch-tuner: simulate and tune vllm-ascend weight prefetch into L2 on Ascend NPUs.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/command_line.h"
#include "cli/progress.h"
#include "subcommand.h"
#include "version.h"
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

// Every name and alias of `sub`'s options, with their dashes, for "did you mean".
std::vector<std::string> option_names(const CLI::App& sub) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : sub.get_options()) {
    for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
    for (const auto& n : opt->get_snames()) names.push_back("-" + n);
  }
  return names;
}

int run(int argc, char** argv) {
  CLI::App app{"prefetch-tuner: simulate and tune vllm-ascend weight prefetch (CMO into L2) on Ascend 910B / A3.\n"
               "Options without a subcommand go to simulate: prefetch-tuner --model Qwen3-8B",
               "prefetch-tuner"};
  app.set_version_flag("--version", std::string("prefetch-tuner ") + PT_VERSION + " (git " + PT_GIT_REVISION + ")",
                       "print the version and the git revision it was built from");
  app.footer(
      "Examples:\n"
      "  prefetch-tuner                                   simulate the default scenario (Qwen3-32B W8A8, TP4, A3)\n"
      "  prefetch-tuner --model Qwen/Qwen3-8B --tp 2      the same as prefetch-tuner simulate --model ...\n"
      "  prefetch-tuner tune-ratio --num-tokens 8,16,32,72 --out tuned.json\n"
      "  prefetch-tuner SUBCOMMAND --help                 a subcommand's options and examples\n");
  app.require_subcommand(0, 1);
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  std::vector<std::string> names;
  for (const auto& sc : pt::app::subcommands()) {
    CLI::App* sub = app.add_subcommand(sc.name, sc.summary);
    actions.emplace_back(sub, sc.setup(*sub));
    names.emplace_back(sc.name);
  }
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  try {
    args = pt::route_to_default_subcommand(args, names, {"-h", "--help", "--version"}, "simulate");
  } catch (const pt::InputError& e) {
    print_error("error", e.what());
    return 2;
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other refusal; --help still prints the usage. A mistyped option is
    // named before its value, with the subcommand's closest option names: it is the cause, even
    // when CLI11 first misses a required option it hid.
    std::string message;
    if (!args.empty()) {
      for (auto& [sub, act] : actions) {
        if (sub->get_name() == args.front()) {
          message = pt::unknown_option_message(sub->get_name(), std::vector<std::string>(args.begin() + 1, args.end()),
                                               option_names(*sub));
        }
      }
    }
    if (message.empty()) message = std::string(e.what()) + " (see --help)";
    print_error("error", message.c_str());
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
  // What a run wrote, on stderr: stdout holds the report.
  pt::set_output_summary_sink([](const std::string& summary) { std::cerr << summary << "\n"; });
  pt::set_read_progress(pt::terminal_read_progress());  // a large trace, on a terminal
  return finish(run(argc, argv));
}
