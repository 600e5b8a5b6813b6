#pragma once
// Options every modelling subcommand shares: model, deployment (vllm's own option names),
// hardware, weight_prefetch_config.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "sim/scenario.h"

namespace pt::app {

struct ScenarioOptions {
  ScenarioInputs inputs;
  std::optional<int> num_tokens, max_num_seqs;
  std::string quantization = "w8a8";
  std::string phase = "decode";
  std::string additional_config;
  bool eager = false;
  std::string norm_quant_fusion = "auto";

  // `token_list`: --num-tokens takes a comma-separated workload (tune-ratio) instead of one count.
  void add_to(CLI::App& app, bool token_list = false);
  bool model_given() const { return model_option_ && model_option_->count() > 0; }
  bool config_given() const { return additional_config_given() || !inputs.env_assignments.empty(); }
  // Given at all: an empty --additional-config '' is refused like any other bad JSON.
  bool additional_config_given() const { return additional_config_option_ && additional_config_option_->count() > 0; }
  CLI::Option* additional_config_option_ = nullptr;
  CLI::Option* model_option_ = nullptr;
  CLI::Option* num_tokens_option_ = nullptr;
  CLI::Option* quantization_option_ = nullptr;
  std::vector<int> num_tokens_list;  // filled from num_tokens_text by parse_token_list()
  std::string num_tokens_text;
  void parse_token_list();
  // Applies the parsed flags to `inputs` and loads everything; InputError on bad input.
  Scenario load();
};

struct OutputOptions {
  std::string format = "text";
  void add_format(CLI::App& app);
};

// The report's destination for write_outputs_atomically: "-" (stdout) unless -o names a file.
inline std::string output_path(const std::string& path) { return path.empty() ? "-" : path; }

// A JSON output, indented, with a final newline. Strings from the user's world (file names, names
// in a profile) may not be UTF-8: invalid bytes become U+FFFD instead of failing the run.
inline std::string json_output(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pt::app
