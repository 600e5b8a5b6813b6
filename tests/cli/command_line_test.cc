#include "cli/command_line.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace pt {
namespace {

using Args = std::vector<std::string>;
const Args kSubcommands{"simulate", "tune-ratio", "export-profile", "analyze", "calibrate"};
const Args kTopLevel{"-h", "--help", "--version"};

TEST(CommandLine, OptionsWithoutASubcommandGoToTheDefault) {
  EXPECT_EQ(route_to_default_subcommand({"--model", "Qwen3-8B"}, kSubcommands, kTopLevel, "simulate"),
            (Args{"simulate", "--model", "Qwen3-8B"}));
  EXPECT_EQ(route_to_default_subcommand({"-q", "bf16"}, kSubcommands, kTopLevel, "simulate"), (Args{"simulate", "-q", "bf16"}));
  // Left alone: a subcommand, the top-level flags, nothing at all.
  EXPECT_EQ(route_to_default_subcommand({"tune-ratio", "--step", "0.1"}, kSubcommands, kTopLevel, "simulate"),
            (Args{"tune-ratio", "--step", "0.1"}));
  EXPECT_EQ(route_to_default_subcommand({"--help"}, kSubcommands, kTopLevel, "simulate"), (Args{"--help"}));
  EXPECT_EQ(route_to_default_subcommand({"--version"}, kSubcommands, kTopLevel, "simulate"), (Args{"--version"}));
  EXPECT_EQ(route_to_default_subcommand({}, kSubcommands, kTopLevel, "simulate"), Args{});
}

TEST(CommandLine, AMistypedSubcommandGetsTheClosestName) {
  EXPECT_EQ(test::error_of([] { route_to_default_subcommand({"simulat", "--tp", "2"}, kSubcommands, kTopLevel, "simulate"); }),
            "simulat: not a subcommand; did you mean simulate? (subcommands: simulate, tune-ratio, export-profile, "
            "analyze, calibrate; options alone run simulate)");
  EXPECT_EQ(test::error_of([] { route_to_default_subcommand({"tune"}, kSubcommands, kTopLevel, "simulate"); }).substr(0, 40),
            "tune: not a subcommand; did you mean tun");
  EXPECT_EQ(test::error_of([] { route_to_default_subcommand({"xyzzy"}, kSubcommands, kTopLevel, "simulate"); }).substr(0, 40),
            "xyzzy: not a subcommand; see --help (sub");
}

TEST(CommandLine, AnUnknownOptionIsNamedBeforeItsValueWithTheClosestOption) {
  const Args known{"--tensor-parallel-size", "--tp", "-t", "--model", "--num-tokens", "--help", "-h"};
  EXPECT_EQ(unknown_option_message("simulate", {"--model", "Qwen3-8B", "--tensor-paralel-size", "4"}, known),
            "simulate: unknown option --tensor-paralel-size 4; did you mean --tensor-parallel-size?");
  EXPECT_EQ(unknown_option_message("simulate", {"--num-token=8"}, known),
            "simulate: unknown option --num-token 8; did you mean --num-tokens?");
  EXPECT_EQ(unknown_option_message("simulate", {"--frobnicate"}, known),
            "simulate: unknown option --frobnicate; see prefetch-tuner simulate --help");
  // Known options (and packed short ones, and negative numbers) are not the culprit.
  EXPECT_EQ(unknown_option_message("simulate", {"--tp", "4", "-t4", "--model=Qwen3-8B", "-1"}, known), "");
}

}  // namespace
}  // namespace pt
