// The bad-input catalogue: for every input the tool reads, the malformed files real users
// produce, run through the real binary. Each one must fail with exit code 2 and exactly one line
// on stderr, "prefetch-tuner: error: ...", naming the file (or the option) and, where the input
// has one, the location (JSON path, CSV line or byte offset); existing output files stay as they
// were. Never a crash: no exit code 3, no signal, no escaped exception.
//
// Data-driven: one row per case, {input kind, case name, setup, content, expected substring}.
// The command line comes from the input kind; {IN} is the input, {OUT} the report (-o) and
// {OUT2} a second output of the same command, both existing before the run.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/printable.h"

namespace pt {
namespace {

namespace fs = std::filesystem;
using test::shell_quote;

enum class Setup {
  kFile,        // content written to the input file
  kInline,      // content passed on the command line itself
  kDirectory,   // a directory where the input file belongs
  kUnreadable,  // the file exists with mode 000
  kMissing,     // the file does not exist
  kOverLimit,   // a sparse file one byte larger than the limit the content names (first line, in bytes)
  kFifo,        // a FIFO that no process writes to: reading must not wait for one
  kDevice,      // a symlink to /dev/zero, which never ends
};

struct InputKind {
  const char* name;       // test name prefix
  const char* file_name;  // the input file's name in the test's directory
  const char* command;    // CLI arguments
};

const InputKind kConfigInline{"additional_config_inline", "", "simulate --additional-config {IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kConfigFile{"additional_config_file", "prefetch.json",
                            "simulate --additional-config @{IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kModel{"config_json", "config.json", "simulate --model {IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kHardware{"hardware_profile", "hw.json", "simulate --hardware {IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kCalibration{"calibration", "calibration.json", "simulate --calibration {IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kTrace{"trace_view_json", "trace_view.json", "analyze {IN} -o {OUT} --cmo-csv {OUT2}"};
const InputKind kKernel{"kernel_details_csv", "kernel_details.csv", "analyze {IN} -o {OUT} --cmo-csv {OUT2}"};
const InputKind kTaskTime{"task_time_csv", "task_time_1763856000.csv", "analyze {IN} -o {OUT} --cmo-csv {OUT2}"};
const InputKind kWorkload{"workload_csv", "workload.csv", "tune-ratio --workload {IN} -o {OUT} --out {OUT2}"};
const InputKind kTemplate{"layer_template", "layers.json", "simulate --layer {IN} -o {OUT} --timeline-csv {OUT2}"};
const InputKind kOpTimes{"op_times_csv", "op_times.csv", "simulate --op-times {IN} -o {OUT} --timeline-csv {OUT2}"};

struct BadInput {
  std::string kind;
  std::string name;
  Setup setup = Setup::kFile;
  std::string content;
  std::string expected;  // substring of the error line
  bool located = true;   // the message points into the file: a JSON path, a line or a byte
  std::string file_name;
  std::string command;
};

// `text` with `from` replaced by `to`; a `from` that is not there makes the case fail visibly.
std::string edit(const std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) return "edit() found no \"" + from + "\" to replace";
  return text.substr(0, at) + to + text.substr(at + from.size());
}

// ---- valid inputs each case starts from (EveryBaseInputIsAccepted checks them) ---------------

const std::string kPrefetch =
    R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": {"attn": {"qkv": 1.0, "o": 1.0}, "mlp": {"gate_up": 1.0, "down": 0.5}}}})";

const std::string kModelJson = R"({
  "architectures": ["Qwen3ForCausalLM"],
  "model_type": "qwen3",
  "hidden_size": 4096,
  "intermediate_size": 12288,
  "num_hidden_layers": 36,
  "num_attention_heads": 32,
  "num_key_value_heads": 8,
  "head_dim": 128,
  "vocab_size": 151936
})";

const std::string kMoeModelJson = R"({
  "architectures": ["Qwen3MoeForCausalLM"],
  "hidden_size": 2048,
  "num_hidden_layers": 48,
  "num_attention_heads": 32,
  "num_key_value_heads": 4,
  "head_dim": 128,
  "vocab_size": 151936,
  "num_experts": 128,
  "num_experts_per_tok": 8,
  "moe_intermediate_size": 768
})";

const std::string kCalibrationJson = R"({
  "schema": "prefetch-tuner/calibration/1",
  "sources": ["run1"],
  "hardware": {
    "hbm_GBps": {"value": 1400, "basis": "least squares"}
  },
  "op_durations": [
    {"key": "SwiGlu", "intercept_us": 3.5, "per_token_us": 0.01, "points": 10}
  ],
  "notes": []
})";

const std::string kTemplateJson = R"({
  "schema": "prefetch-tuner/layer-template/1",
  "name": "mini",
  "layer_types": {
    "dense": {"ops": [
      {"name": "norm", "kind": "vector", "flops": "T*H*4", "bytes": "T*H*4"},
      {"name": "down", "kind": "matmul", "linear": "down_proj", "tokens": "T"}
    ]}
  },
  "layer_sequence": [{"type": "dense", "count": 2}]
})";

const std::string kTraceJson = R"({"traceEvents": [
{"ph": "M", "name": "process_name", "pid": 7, "args": {"name": "Ascend Hardware"}},
{"ph": "X", "name": "aclnnMatmul_MatMulCommon_MatMulV2", "pid": 7, "tid": 2, "ts": "1763856000000001.250", "dur": 12.5, "args": {"Task Type": "AI_CORE", "Physic Stream Id": 2, "Task Id": 12}},
{"ph": "X", "name": "CMO", "pid": 7, "tid": 5, "ts": "1763856000000002.000", "dur": 3.0, "args": {"Task Type": "CMO", "Physic Stream Id": 5, "Task Id": 13}}
]}
)";

const std::string kKernelCsv =
    "Step Id,Task ID,Stream ID,Name,Type,Accelerator Core,Start Time(us),Duration(us),Input Shapes\n"
    "1,101,2,aclnnMatmul_MatMulCommon_MatMulV2,MatMulV2,AI_CORE,\"1763856000000001.250\t\",12.5,\"\"\"72,5120;2560,5120\"\"\"\n"
    "1,102,2,aclnnAdd_AddAiCore_Add,Add,AI_VECTOR_CORE,1763856000000020.000,3.5,\"\"\"72,2560;72,2560\"\"\"\n";

const std::string kTaskTimeCsv =
    "Device_id,kernel_name,kernel_type,stream_id,task_id,task_time(us),task_start(us),task_stop(us)\n"
    "0,aclnnAdd_AddAiCore_Add,AI_VECTOR_CORE,2,11,3.5,1763856000000000.000\t,1763856000000003.500\t\n"
    "0,N/A,CMO,3,4,12.25,1763856000000004.250\t,1763856000000016.500\t\n";

const std::string kWorkloadCsv = "num_tokens,weight\n8,1\n72,4\n";

const std::string kOpTimesCsv = "name,num_tokens,duration_us\nnorm,8,3.5\nnorm,72,5.0\n";

// Long values are quoted as their first 64 bytes and their size (excerpt()).
const std::string kMiB(1'000'000, 'x');  // a value of 1 MB, quoted only as an excerpt
const std::string kMiBQuote = std::string(64, 'x') + "... (1000000 bytes)";

// ---- the catalogue ------------------------------------------------------------------------

class Catalogue {
 public:
  // A file with `content`; `expected` must appear in the error.
  void file(const InputKind& k, const char* name, std::string content, std::string expected, bool located = true) {
    add(k, name, k.file_name[0] ? Setup::kFile : Setup::kInline, std::move(content), std::move(expected), located);
  }
  void add(const InputKind& k, const char* name, Setup setup, std::string content, std::string expected,
           bool located = false) {
    BadInput c;
    c.kind = k.name;
    c.name = name;
    c.setup = setup;
    c.content = std::move(content);
    c.expected = std::move(expected);
    c.located = located;
    c.file_name = k.file_name;
    c.command = k.command;
    cases_.push_back(std::move(c));
  }
  // The cases every file input shares: a directory in its place, no permission, no file, a FIFO
  // with no writer, a device.
  void file_system(const InputKind& k, const std::string& directory, const std::string& missing, const std::string& fifo,
                   const std::string& device) {
    add(k, "directory_instead_of_file", Setup::kDirectory, "", directory);
    add(k, "unreadable_file", Setup::kUnreadable, "{}", "cannot open for reading (Permission denied)");
    add(k, "missing_file", Setup::kMissing, "", missing);
    add(k, "fifo_without_writer", Setup::kFifo, "", fifo);
    add(k, "link_to_dev_zero", Setup::kDevice, "", device);
  }
  void output(const char* name, std::string command, std::string expected) {
    BadInput c;
    c.kind = "output";
    c.name = name;
    c.setup = Setup::kMissing;
    c.command = std::move(command);
    c.expected = std::move(expected);
    c.located = false;
    cases_.push_back(std::move(c));
  }
  std::vector<BadInput> cases_;
};

std::vector<BadInput> catalogue() {
  Catalogue c;
  const std::string deep(1000, '[');

  // --additional-config, inline.
  {
    const auto& k = kConfigInline;
    c.file(k, "empty_string", "", "--additional-config: empty input, expected JSON", false);
    c.file(k, "whitespace_only", " \n", "--additional-config: empty input, expected JSON", false);
    c.file(k, "truncated", R"({"weight_prefetch_config": {"enabled": tr)", "--additional-config: invalid JSON at line 1 column");
    c.file(k, "python_dict_quotes", "{'enabled': True}", "--additional-config: invalid JSON at line 1 column 2");
    c.file(k, "trailing_comma", R"({"enabled": true,})", "--additional-config: invalid JSON at line 1 column");
    c.file(k, "key_value_syntax", "weight_prefetch_config.enabled=true", "--additional-config: invalid JSON at line 1 column 1");
    c.file(k, "not_an_object", "[true]", "--additional-config: $: expected an object, got an array");
    c.file(k, "enabled_number", R"({"enabled": 1})", "--additional-config: $.enabled: expected true or false, got a number");
    c.file(k, "ratio_boolean", R"({"prefetch_ratio": {"attn": {"qkv": true}}})",
           "--additional-config: $.prefetch_ratio.attn.qkv: expected a number in [0, 1], got a boolean");
    c.file(k, "nan_literal", R"({"enabled": true, "prefetch_ratio": {"mlp": {"down": NaN}}})",
           "--additional-config: invalid JSON at line 1 column 54");
    c.file(k, "infinity_literal", R"({"enabled": true, "prefetch_ratio": {"mlp": {"down": Infinity}}})",
           "--additional-config: invalid JSON at line 1 column 54");
    c.file(k, "overflow_1e999", R"({"enabled": true, "prefetch_ratio": {"mlp": {"down": 1e999}}})",
           "--additional-config: $.prefetch_ratio.mlp.down: number out of range");
    c.file(k, "negative_ratio", R"({"enabled": true, "prefetch_ratio": {"attn": {"o": -1}}})",
           "--additional-config: $.prefetch_ratio.attn.o: expected a number in [0, 1], got -1");
    c.file(k, "unknown_key", R"({"enabled": true, "ratio": 0.5})", "--additional-config: $.ratio: unknown key");
    c.file(k, "duplicate_key", R"({"enabled": true, "enabled": false})", "--additional-config: $.enabled: duplicate key");
    c.file(k, "not_utf8", "{\"enabled\": \"\xff\"}", "--additional-config: invalid JSON at line 1 column 14");
    c.file(k, "nested_too_deep", deep, "--additional-config: $[0][0]");
  }

  // --additional-config @FILE.
  {
    const auto& k = kConfigFile;
    const std::string inner = "$.weight_prefetch_config";
    c.file(k, "empty_file", "", "prefetch.json: empty input, expected JSON", false);
    c.file(k, "truncated", kPrefetch.substr(0, kPrefetch.size() / 2), "prefetch.json: invalid JSON at line 1 column");
    c.file(k, "enabled_string", edit(kPrefetch, "\"enabled\": true", "\"enabled\": \"yes\""),
           inner + ".enabled: expected true or false, got the string \"yes\"");
    c.file(k, "ratio_string", edit(kPrefetch, "\"down\": 0.5", "\"down\": \"0.5\""),
           inner + ".prefetch_ratio.mlp.down: expected a number in [0, 1], got the string \"0.5\"");
    c.file(k, "prefetch_ratio_array", R"({"weight_prefetch_config": {"enabled": true, "prefetch_ratio": [0.5]}})",
           inner + ".prefetch_ratio: expected an object of modules");
    c.file(k, "module_number", edit(kPrefetch, R"("mlp": {"gate_up": 1.0, "down": 0.5})", R"("mlp": 1)"),
           inner + ".prefetch_ratio.mlp: expected an object like");
    c.file(k, "nan_literal", edit(kPrefetch, "\"down\": 0.5", "\"down\": NaN"), "prefetch.json: invalid JSON at line 1 column");
    c.file(k, "nan_string", edit(kPrefetch, "\"down\": 0.5", "\"down\": \"NaN\""),
           inner + ".prefetch_ratio.mlp.down: expected a number in [0, 1], got the string \"NaN\"");
    c.file(k, "infinity_literal", edit(kPrefetch, "\"down\": 0.5", "\"down\": Infinity"),
           "prefetch.json: invalid JSON at line 1 column");
    c.file(k, "overflow_1e999", edit(kPrefetch, "\"down\": 0.5", "\"down\": 1e999"),
           inner + ".prefetch_ratio.mlp.down: number out of range");
    c.file(k, "negative_ratio", edit(kPrefetch, "\"down\": 0.5", "\"down\": -0.5"),
           inner + ".prefetch_ratio.mlp.down: expected a number in [0, 1], got -0.5");
    c.file(k, "huge_ratio", edit(kPrefetch, "\"down\": 0.5", "\"down\": 1e30"),
           inner + ".prefetch_ratio.mlp.down: expected a number in [0, 1], got 1e+30");
    c.file(k, "unknown_key_enable", edit(kPrefetch, "\"enabled\"", "\"enable\""), inner + ".enable: unknown key; did you mean");
    c.file(k, "unknown_module", edit(kPrefetch, "\"attn\"", "\"attention\""), inner + ".prefetch_ratio.attention: unknown module");
    c.file(k, "duplicate_key", edit(kPrefetch, "\"enabled\": true", "\"enabled\": true, \"enabled\": false"),
           inner + ".enabled: duplicate key");
    c.file(k, "duplicate_ratio", edit(kPrefetch, "\"down\": 0.5", "\"down\": 0.5, \"down\": 0.25"),
           inner + ".prefetch_ratio.mlp.down: duplicate key");
    c.file(k, "string_of_1MB", edit(kPrefetch, "\"enabled\": true", "\"enabled\": \"" + kMiB + "\""),
           inner + ".enabled: expected true or false, got the string \"" + kMiBQuote + "\"");
    c.file(k, "key_of_1MB", edit(kPrefetch, "\"enabled\"", "\"" + kMiB + "\""),
           inner + "[\"" + kMiBQuote + "\"]: unknown key");
    c.file(k, "unterminated_string_of_1MB", "{\"weight_prefetch_config\": {\"enabled\": \"" + kMiB,
           "prefetch.json: invalid JSON at line 1 column");
    c.file(k, "not_utf8", edit(kPrefetch, "\"mlp\"", "\"mlp\xff\""), "prefetch.json: invalid JSON at line 1 column");
    c.file(k, "nested_too_deep", "{\"a\": " + deep, "prefetch.json: $.a[0][0]");
    c.file_system(k, "prefetch.json: is a directory", "prefetch.json: cannot open for reading (No such file or directory)",
                  "prefetch.json: empty input, expected JSON", "prefetch.json: is a character device, expected a regular file or a pipe");
  }

  // config.json (--model).
  {
    const auto& k = kModel;
    c.file(k, "empty_file", "", "config.json: empty input, expected JSON", false);
    c.file(k, "whitespace_only", "\n\n", "config.json: empty input, expected JSON", false);
    c.file(k, "truncated", kModelJson.substr(0, kModelJson.size() / 2), "config.json: invalid JSON at line 6 column");
    c.file(k, "architectures_number", edit(kModelJson, R"(["Qwen3ForCausalLM"])", "5"),
           "config.json: $.architectures: expected a string, got a number");
    c.file(k, "architectures_empty", edit(kModelJson, R"(["Qwen3ForCausalLM"])", "[]"),
           "config.json: $.architectures: empty list");
    c.file(k, "unsupported_architecture", edit(kModelJson, "Qwen3ForCausalLM", "GPT2LMHeadModel"),
           "config.json: $.architectures: unsupported architecture \"GPT2LMHeadModel\"");
    c.file(k, "architecture_of_1MB", edit(kModelJson, "Qwen3ForCausalLM", kMiB),
           "config.json: $.architectures: unsupported architecture \"" + kMiBQuote + "\"");
    c.file(k, "hidden_size_string", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": \"4096\""),
           "config.json: $.hidden_size: expected an integer, got the string \"4096\"");
    c.file(k, "layers_fraction", edit(kModelJson, "\"num_hidden_layers\": 36", "\"num_hidden_layers\": 36.5"),
           "config.json: $.num_hidden_layers: expected an integer, got a number");
    c.file(k, "intermediate_boolean", edit(kModelJson, "\"intermediate_size\": 12288", "\"intermediate_size\": true"),
           "config.json: $.intermediate_size: expected an integer, got a boolean");
    c.file(k, "missing_vocab_size", edit(kModelJson, ",\n  \"vocab_size\": 151936", ""),
           "config.json: $.vocab_size: missing required key");
    c.file(k, "nan_literal", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": NaN"),
           "config.json: invalid JSON at line 4 column");
    c.file(k, "nan_string", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": \"NaN\""),
           "config.json: $.hidden_size: expected an integer, got the string \"NaN\"");
    c.file(k, "infinity_literal", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": Infinity"),
           "config.json: invalid JSON at line 4 column");
    c.file(k, "overflow_1e999", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": 1e999"),
           "config.json: $.hidden_size: number out of range");
    c.file(k, "negative_hidden_size", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": -4096"),
           "config.json: $.hidden_size: expected an integer in [1, 1048576], got -4096");
    c.file(k, "zero_layers", edit(kModelJson, "\"num_hidden_layers\": 36", "\"num_hidden_layers\": 0"),
           "config.json: $.num_hidden_layers: expected an integer in [1, 4096], got 0");
    c.file(k, "zero_heads", edit(kModelJson, "\"num_attention_heads\": 32", "\"num_attention_heads\": 0"),
           "config.json: $.num_attention_heads: expected an integer in [1, 1048576], got 0");
    c.file(k, "million_layers", edit(kModelJson, "\"num_hidden_layers\": 36", "\"num_hidden_layers\": 1000000"),
           "config.json: $.num_hidden_layers: expected an integer in [1, 4096], got 1000000");
    c.file(k, "layers_1e30", edit(kModelJson, "\"num_hidden_layers\": 36", "\"num_hidden_layers\": 1000000000000000000000000000000"),
           "config.json: $.num_hidden_layers: expected an integer in [1, 4096], got 1e+30");
    c.file(k, "hidden_size_1e30", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": 1e30"),
           "config.json: $.hidden_size: expected an integer in [1, 1048576], got 1e+30");
    c.file(k, "vocab_size_1e30", edit(kModelJson, "\"vocab_size\": 151936", "\"vocab_size\": 1e30"),
           "config.json: $.vocab_size: expected an integer in [1, 16777216], got 1e+30");
    c.file(k, "kv_heads_not_a_divisor", edit(kModelJson, "\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7"),
           "config.json: $.num_key_value_heads: num_attention_heads (32) is not a multiple of it");
    c.file(k, "top_k_above_experts", edit(kMoeModelJson, "\"num_experts_per_tok\": 8", "\"num_experts_per_tok\": 200"),
           "config.json: $.num_experts_per_tok: larger than the number of experts (128)");
    c.file(k, "experts_1e30", edit(kMoeModelJson, "\"num_experts\": 128", "\"num_experts\": 1e30"),
           "config.json: $.num_experts: expected an integer in [1, 65536], got 1e+30");
    c.file(k, "shared_experts_overflow",
           edit(edit(test::read_file(test::source_path("sample_profiles/models/DeepSeek-V3.json")),
                     "\"n_shared_experts\": 1", "\"n_shared_experts\": 65536"),
                "\"moe_intermediate_size\": 2048", "\"moe_intermediate_size\": 1048576"),
           "config.json: $.n_shared_experts: n_shared_experts x moe_intermediate_size");
    c.file(k, "duplicate_key", edit(kModelJson, "\"hidden_size\": 4096", "\"hidden_size\": 4096, \"hidden_size\": 5120"),
           "config.json: $.hidden_size: duplicate key");
    c.file(k, "not_utf8", edit(kModelJson, "\"qwen3\"", "\"qwen\xff\""), "config.json: invalid JSON at line 3 column");
    c.file(k, "nested_too_deep", "{\"quantization_config\": " + deep, "config.json: $.quantization_config");
    c.add(k, "file_over_64MiB", Setup::kOverLimit, "67108864\n", "config.json: 67108865 bytes; at most 64 MiB for this input");
    c.file_system(k, "config.json: directory holds no config.json", "config.json: no such file or directory, and not a bundled model",
                  "config.json: empty input, expected JSON", "config.json: is a character device, expected a regular file or a pipe");
  }

  // Hardware profile (--hardware).
  {
    const auto& k = kHardware;
    const std::string hw = test::round_hardware_json();
    const std::string hbm = "\"hbm_GBps\": {\"value\": 1000";
    c.file(k, "empty_file", "", "hw.json: empty input, expected JSON", false);
    c.file(k, "truncated", hw.substr(0, hw.size() / 2), "hw.json: invalid JSON at line");
    c.file(k, "value_string", edit(hw, hbm, "\"hbm_GBps\": {\"value\": \"1000\""),
           "hw.json: $.parameters.hbm_GBps.value: expected a number, got the string \"1000\"");
    c.file(k, "family_number", edit(hw, "\"family\": \"A3\"", "\"family\": 3"), "hw.json: $.family: expected a string, got a number");
    c.file(k, "empty_family", edit(hw, "\"family\": \"A3\"", "\"family\": \"\""), "hw.json: $.family: empty; \"A2\", \"A3\", or a name for analog hardware");
    c.file(k, "range_on_a_measured_value", edit(hw, hbm, "\"hbm_GBps\": {\"range\": [1, 2], \"range_reason\": \"r\", \"value\": 1000"),
           "hw.json: $.parameters.hbm_GBps.range: a range belongs to an estimate");
    c.file(k, "extends_unknown", edit(hw, "\"family\": \"A3\"", "\"family\": \"A3\", \"extends\": \"910Z\""),
           "hw.json: $.extends: \"910Z\" is neither a bundled profile");
    c.file(k, "parameters_array", R"({"schema": "prefetch-tuner/hardware/1", "name": "x", "family": "A3", "parameters": []})",
           "hw.json: $.parameters: expected an object, got an array");
    c.file(k, "missing_parameter", edit(hw, "\"join_us\": {\"value\": 0, \"source\": \"test\"},", ""),
           "hw.json: $.parameters.join_us: missing required parameter");
    c.file(k, "nan_literal", edit(hw, hbm, "\"hbm_GBps\": {\"value\": NaN"), "hw.json: invalid JSON at line 13 column");
    c.file(k, "nan_string", edit(hw, hbm, "\"hbm_GBps\": {\"value\": \"NaN\""),
           "hw.json: $.parameters.hbm_GBps.value: expected a number, got the string \"NaN\"");
    c.file(k, "infinity_literal", edit(hw, hbm, "\"hbm_GBps\": {\"value\": Infinity"), "hw.json: invalid JSON at line 13 column");
    c.file(k, "overflow_1e999", edit(hw, hbm, "\"hbm_GBps\": {\"value\": 1e999"), "hw.json: $.parameters.hbm_GBps.value: number out of range");
    c.file(k, "negative_bandwidth", edit(hw, hbm, "\"hbm_GBps\": {\"value\": -1000"),
           "hw.json: $.parameters.hbm_GBps.value: expected a number in [1, 1000000], got -1000");
    c.file(k, "zero_bandwidth", edit(hw, hbm, "\"hbm_GBps\": {\"value\": 0"),
           "hw.json: $.parameters.hbm_GBps.value: expected a number in [1, 1000000], got 0");
    c.file(k, "l2_size_1e30", edit(hw, "\"l2_size_bytes\": {\"value\": 1000000000", "\"l2_size_bytes\": {\"value\": 1e30"),
           "hw.json: $.parameters.l2_size_bytes.value: expected a number in [0, 1000000000000], got 1e+30");
    c.file(k, "unknown_key", edit(hw, "\"family\": \"A3\",", "\"family\": \"A3\", \"vendor\": \"x\","), "hw.json: $.vendor: unknown key");
    c.file(k, "unknown_parameter", edit(hw, hbm, "\"hbm_GBs\": {\"value\": 1000"),
           "hw.json: $.parameters.hbm_GBs: unknown hardware parameter");
    c.file(k, "duplicate_parameter", edit(hw, hbm, "\"hbm_GBps\": {\"value\": 1, \"source\": \"x\"}, " + hbm),
           "hw.json: $.parameters.hbm_GBps: duplicate key");
    c.file(k, "empty_source", edit(hw, "\"hbm_GBps\": {\"value\": 1000, \"source\": \"test\"}", "\"hbm_GBps\": {\"value\": 1000, \"source\": \"\"}"),
           "hw.json: $.parameters.hbm_GBps.source: empty");
    c.file(k, "not_utf8", edit(hw, "\"name\": \"round\"", "\"name\": \"r\xc3\x28und\""), "hw.json: invalid JSON at line 3 column");
    c.file_system(k, "hw.json: is a directory", "hw.json: no such file, and not a bundled profile", "hw.json: empty input, expected JSON",
                  "hw.json: is a character device, expected a regular file or a pipe");
  }

  // Calibration file (--calibration).
  {
    const auto& k = kCalibration;
    const std::string& cal = kCalibrationJson;
    c.file(k, "empty_file", "", "calibration.json: empty input, expected JSON", false);
    c.file(k, "truncated", cal.substr(0, cal.size() / 2), "calibration.json: invalid JSON at line");
    c.file(k, "wrong_schema", edit(cal, "calibration/1", "calibration/2"),
           "calibration.json: $.schema: expected \"prefetch-tuner/calibration/1\"");
    c.file(k, "schema_number", edit(cal, "\"prefetch-tuner/calibration/1\"", "1"),
           "calibration.json: $.schema: expected a string, got a number");
    c.file(k, "value_string", edit(cal, "\"value\": 1400", "\"value\": \"1400\""),
           "calibration.json: $.hardware.hbm_GBps.value: expected a number, got the string \"1400\"");
    c.file(k, "op_durations_object", edit(edit(cal, "\"op_durations\": [", "\"op_durations\": {\"a\": "), "10}\n  ]", "10}\n  }"),
           "calibration.json: $.op_durations: expected an array, got an object");
    c.file(k, "intercept_string", edit(cal, "\"intercept_us\": 3.5", "\"intercept_us\": \"3.5\""),
           "calibration.json: $.op_durations[0].intercept_us: expected a number, got the string \"3.5\"");
    c.file(k, "nan_literal", edit(cal, "\"per_token_us\": 0.01", "\"per_token_us\": NaN"), "calibration.json: invalid JSON at line 8 column");
    c.file(k, "nan_string", edit(cal, "\"per_token_us\": 0.01", "\"per_token_us\": \"nan\""),
           "calibration.json: $.op_durations[0].per_token_us: expected a number, got the string \"nan\"");
    c.file(k, "infinity_literal", edit(cal, "\"value\": 1400", "\"value\": -Infinity"), "calibration.json: invalid JSON at line 5 column");
    c.file(k, "overflow_1e999", edit(cal, "\"per_token_us\": 0.01", "\"per_token_us\": -1e999"),
           "calibration.json: $.op_durations[0].per_token_us: number out of range");
    c.file(k, "negative_bandwidth", edit(cal, "\"value\": 1400", "\"value\": -1"),
           "calibration.json: $.hardware.hbm_GBps: hbm_GBps = -1 is outside the accepted range [1, 1000000]");
    c.file(k, "zero_bandwidth", edit(cal, "\"value\": 1400", "\"value\": 0"),
           "calibration.json: $.hardware.hbm_GBps: hbm_GBps = 0 is outside the accepted range");
    c.file(k, "intercept_1e30", edit(cal, "\"intercept_us\": 3.5", "\"intercept_us\": 1e30"),
           "calibration.json: $.op_durations[0].intercept_us: expected a number in [-1000000000, 1000000000], got 1e+30");
    c.file(k, "negative_points", edit(cal, "\"points\": 10", "\"points\": -5"),
           "calibration.json: $.op_durations[0].points: expected an integer in [0, 1099511627776], got -5");
    c.file(k, "unknown_key", edit(cal, "\"notes\": []", "\"notes\": [], \"version\": 2"), "calibration.json: $.version: unknown key");
    c.file(k, "unknown_parameter", edit(cal, "\"hbm_GBps\": {", "\"hbm_speed\": {"),
           "calibration.json: $.hardware.hbm_speed: unknown hardware parameter \"hbm_speed\"");
    c.file(k, "duplicate_key", edit(cal, "\"hbm_GBps\": {", "\"hbm_GBps\": {\"value\": 1}, \"hbm_GBps\": {"),
           "calibration.json: $.hardware.hbm_GBps: duplicate key");
    c.file(k, "empty_op_key", edit(cal, "\"key\": \"SwiGlu\"", "\"key\": \"\""), "calibration.json: $.op_durations[0].key: empty op key");
    c.file(k, "not_utf8", edit(cal, "\"run1\"", "\"run\xe2\x82\""), "calibration.json: invalid JSON at line 3 column");
    c.file_system(k, "calibration.json: is a directory", "calibration.json: cannot open for reading (No such file or directory)",
                  "calibration.json: empty input, expected JSON", "calibration.json: is a character device, expected a regular file or a pipe");
  }

  // Layer template (--layer).
  {
    const auto& k = kTemplate;
    const std::string& t = kTemplateJson;
    const std::string op0 = "layers.json: $.layer_types.dense.ops[0]";
    c.file(k, "empty_file", "", "layers.json: empty input, expected JSON", false);
    c.file(k, "truncated", t.substr(0, t.size() / 2), "layers.json: invalid JSON at line");
    c.file(k, "layer_types_array", R"({"layer_types": [], "layer_sequence": []})",
           "layers.json: $.layer_types: expected an object, got an array");
    c.file(k, "ops_object", R"({"layer_types": {"dense": {"ops": {}}}})",
           "layers.json: $.layer_types.dense.ops: expected an array, got an object");
    c.file(k, "kind_number", edit(t, "\"kind\": \"vector\"", "\"kind\": 5"), op0 + ".kind: expected a string, got a number");
    c.file(k, "unknown_kind", edit(t, "\"kind\": \"vector\"", "\"kind\": \"vectr\""), op0 + ".kind: unknown op kind \"vectr\"");
    c.file(k, "count_string", edit(t, "\"count\": 2", "\"count\": \"2\""),
           "layers.json: $.layer_sequence[0].count: expected an integer, got the string \"2\"");
    c.file(k, "nan_literal", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": NaN"), "layers.json: invalid JSON at line 6 column");
    c.file(k, "nan_expression", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"NaN\""),
           op0 + ".flops: in expression \"NaN\": unknown variable 'NaN'");
    c.file(k, "infinity_literal", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": Infinity"), "layers.json: invalid JSON at line 6 column");
    c.file(k, "overflow_1e999", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": 1e999"), op0 + ".flops: number out of range");
    c.file(k, "expression_1e999", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"1e999*T\""),
           op0 + ".flops: expression \"1e999*T\" is not finite");
    c.file(k, "expression_overflows", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"1e300*1e300\""),
           op0 + ".flops: expression \"1e300*1e300\" is not finite");
    c.file(k, "flops_1e300", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"1e300\""),
           op0 + ": flops makes the op take");
    c.file(k, "flops_number_1e300", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": 1e300"), op0 + ": flops makes the op take");
    c.file(k, "bytes_1e30", edit(t, "\"bytes\": \"T*H*4\"", "\"bytes\": \"1e30\""), op0 + ": bytes makes the op take");
    c.file(k, "when_nan", edit(t, "\"kind\": \"vector\"", "\"kind\": \"vector\", \"when\": \"(1e400-1e400) > 0\""),
           op0 + ".when: expression \"(1e400-1e400) > 0\" is not finite");
    c.file(k, "division_by_zero", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"T/(TP-TP)\""), op0 + ".flops: in expression \"T/(TP-TP)\": division by zero");
    c.file(k, "expression_syntax", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"T**H\""),
           op0 + ".flops: in expression \"T**H\" at character 3");
    c.file(k, "negative_flops", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"-T\""), op0 + ": flops evaluates to -72 (negative)");
    c.file(k, "negative_count", edit(t, "\"count\": 2", "\"count\": -1"),
           "layers.json: $.layer_sequence[0].count: expected an integer in [1, 4096], got -1");
    c.file(k, "zero_count", edit(t, "\"count\": 2", "\"count\": 0"),
           "layers.json: $.layer_sequence[0].count: expected an integer in [1, 4096], got 0");
    c.file(k, "count_1e30", edit(t, "\"count\": 2", "\"count\": 1e30"),
           "layers.json: $.layer_sequence[0].count: expected an integer in [1, 4096], got 1e+30");
    std::string many = R"({"type": "dense", "count": 4096})";
    for (int i = 0; i < 99; ++i) many += R"(, {"type": "dense", "count": 4096})";
    c.file(k, "sequence_over_4096_layers", edit(t, R"({"type": "dense", "count": 2})", many),
           "layers.json: $.layer_sequence[1]: 8192 layers in all; at most 4096");
    c.file(k, "unknown_key", edit(t, "\"name\": \"mini\"", "\"name\": \"mini\", \"layers\": 2"), "layers.json: $.layers: unknown key");
    c.file(k, "unknown_op_key", edit(t, "\"flops\": \"T*H*4\"", "\"flop\": \"T*H*4\""), op0 + ".flop: unknown key");
    c.file(k, "duplicate_key", edit(t, "\"flops\": \"T*H*4\"", "\"flops\": \"T*H*4\", \"flops\": \"T\""), op0 + ".flops: duplicate key");
    c.file(k, "duplicate_op_name", edit(t, "\"name\": \"down\"", "\"name\": \"norm\""),
           "layers.json: $.layer_types.dense.ops[1].name: duplicate op name \"norm\"");
    c.file(k, "unknown_linear", edit(t, "\"linear\": \"down_proj\"", "\"linear\": \"down\""),
           "layers.json: $.layer_types.dense.ops[1]: linear \"down\" does not exist for model");
    c.file(k, "not_utf8", edit(t, "\"mini\"", "\"mini\xc0\xaf\""), "layers.json: invalid JSON at line 3 column");
    c.file(k, "nested_too_deep", edit(t, "\"name\": \"mini\"", "\"name\": " + deep), "layers.json: $.name");
    c.file_system(k, "layers.json: is a directory", "layers.json: cannot open for reading (No such file or directory)",
                  "layers.json: empty input, expected JSON", "layers.json: is a character device, expected a regular file or a pipe");
  }

  // trace_view.json (analyze). Errors name the byte offset (from 0) of the bad value or event.
  {
    const auto& k = kTrace;
    const std::string& t = kTraceJson;
    const std::string f = "trace_view.json: invalid JSON at byte ";
    auto at = [](const std::string& text, const std::string& needle, size_t plus = 0) {
      return std::to_string(text.find(needle) + plus);
    };
    const std::string ts = "\"ts\": \"1763856000000002.000\"";
    const std::string cmo_event = std::to_string(t.rfind('{', t.find("\"name\": \"CMO\"")));  // the event's '{'
    auto with = [&](const std::string& from, const std::string& to) { return edit(t, from, to); };
    c.file(k, "empty_file", "", f + "0: empty file, expected a Chrome trace");
    c.file(k, "whitespace_only", " \n ", f + "3: empty file, expected a Chrome trace");
    c.file(k, "truncated", t.substr(0, t.size() / 2), f + std::to_string(t.size() / 2) + ": unexpected end of input (file truncated?)");
    c.file(k, "not_a_trace", "\"hello\"", f + "0: expected '[' or '{' at the start of a Chrome trace");
    c.file(k, "trace_events_object", R"({"traceEvents": {}})", f + "16: \"traceEvents\" must be an array of events");
    const std::string ts_bool = with(ts, "\"ts\": true");
    c.file(k, "ts_boolean", ts_bool, f + at(ts_bool, "true") + ": \"ts\" must be a number or a numeric string");
    const std::string dur_text = with("\"dur\": 3.0", "\"dur\": \"abc\"");
    c.file(k, "dur_text", dur_text, f + at(dur_text, "\"abc\"") + ": \"dur\" must be a number or a numeric string, found \"abc\"");
    const std::string nan = with("\"dur\": 3.0", "\"dur\": NaN");
    c.file(k, "nan_literal", nan, f + at(nan, "NaN") + ": \"dur\" must be a number or a numeric string");
    const std::string nan_string = with("\"dur\": 3.0", "\"dur\": \"NaN\"");
    c.file(k, "nan_string", nan_string, f + at(nan_string, "\"NaN\"") + ": \"dur\" must be a number or a numeric string, found \"NaN\"");
    const std::string inf = with("\"dur\": 3.0", "\"dur\": Infinity");
    c.file(k, "infinity_literal", inf, f + at(inf, "Infinity") + ": \"dur\" must be a number or a numeric string");
    const std::string big = with("\"dur\": 3.0", "\"dur\": 1e999");
    c.file(k, "overflow_1e999", big, f + at(big, "1e999") + ": number out of range \"1e999\"");
    c.file(k, "negative_dur", with("\"dur\": 3.0", "\"dur\": -3.0"),
           "trace_view.json: event at byte " + cmo_event + ": negative \"dur\" -3");
    const std::string ts_big = with(ts, "\"ts\": 1e30");
    c.file(k, "ts_1e30", ts_big, f + at(ts_big, "1e30") + ": \"ts\" 1e30 is out of range (microseconds since the epoch)");
    c.file(k, "x_event_without_ts", with(ts + ", ", ""),
           "trace_view.json: event at byte " + cmo_event + ": a complete (\"ph\": \"X\") event without \"ts\"");
    c.file(k, "no_ascend_hardware_process", with("\"Ascend Hardware\"", "\"Python\""),
           "trace_view.json: no tasks of an \"Ascend Hardware\" process", false);
    c.file(k, "not_utf8", with("\"CMO\", \"pid\"", "\"CM\xff\", \"pid\""),
           "trace_view.json: event at byte " + cmo_event + ": \"name\" is not valid UTF-8");
    const std::string nested = with("\"args\": {\"Task Type\": \"CMO\"", "\"args\": {\"x\": " + deep);
    c.file(k, "nested_too_deep", nested, f + at(nested, "\"x\": [", 5 + 510) + ": nesting deeper than 512 levels");
    c.file(k, "trailing_garbage", t + "x", f + std::to_string(t.size()) + ": unexpected 'x' after the end of the trace");
    const std::string long_dur = with("\"dur\": 3.0", "\"dur\": \"" + kMiB + "\"");
    c.file(k, "dur_string_of_1MB", long_dur,
           f + at(long_dur, "\"xxx") + ": \"dur\" must be a number or a numeric string, found \"" + kMiBQuote + "\"");
    c.file_system(k, "trace_view.json: no profile found", "trace_view.json: no such file or directory",
                  "trace_view.json: is a FIFO, expected a profiler output directory or a regular file",
                  "trace_view.json: is a character device, expected a profiler output directory or a regular file");
  }

  // kernel_details.csv (analyze).
  {
    const auto& k = kKernel;
    const std::string& csv = kKernelCsv;
    const std::string start = "1763856000000020.000";
    c.file(k, "empty_file", "", "kernel_details.csv: empty file, expected a CSV header line", false);
    c.file(k, "header_only", csv.substr(0, csv.find('\n') + 1), "kernel_details.csv: no device tasks", false);
    c.file(k, "missing_column", edit(csv, "Duration(us)", "Time(us)"),
           "kernel_details.csv: line 1: missing column \"Duration(us)\" or \"Task Duration(us)\"");
    c.file(k, "truncated_row", csv.substr(0, csv.find(start) + start.size()),
           "kernel_details.csv: line 3: column \"Duration(us)\" is missing (row has 7 fields, header 9)");
    c.file(k, "truncated_in_quotes", csv.substr(0, csv.size() - 12), "kernel_details.csv: line 3: unterminated quoted field");
    c.file(k, "duration_text", edit(csv, ",3.5,", ",abc,"), "kernel_details.csv: line 3: column \"Duration(us)\": expected a number, got \"abc\"");
    c.file(k, "start_text", edit(csv, start, "x"), "kernel_details.csv: line 3: column \"Start Time(us)\": expected a number, got \"x\"");
    c.file(k, "nan_duration", edit(csv, ",3.5,", ",NaN,"), "kernel_details.csv: line 3: column \"Duration(us)\": expected a number, got \"NaN\"");
    c.file(k, "infinite_duration", edit(csv, ",3.5,", ",inf,"), "kernel_details.csv: line 3: column \"Duration(us)\": expected a number, got \"inf\"");
    c.file(k, "overflow_1e999", edit(csv, ",3.5,", ",1e999,"), "kernel_details.csv: line 3: column \"Duration(us)\": expected a number, got \"1e999\"");
    c.file(k, "negative_duration", edit(csv, ",3.5,", ",-3.5,"), "kernel_details.csv: line 3: column \"Duration(us)\": negative duration -3.5");
    c.file(k, "start_1e30", edit(csv, start, "1e30"),
           "kernel_details.csv: line 3: column \"Start Time(us)\": timestamp 1e30 is out of range");
    c.file(k, "not_utf8", edit(csv, "aclnnAdd_AddAiCore_Add", "aclnnAdd_\xff"), "kernel_details.csv: line 3: not valid UTF-8");
    c.file(k, "duration_of_1MB", edit(csv, ",3.5,", "," + kMiB + ","),
           "kernel_details.csv: line 3: column \"Duration(us)\": expected a number, got \"" + kMiBQuote + "\"");
    // Streamed, so no file size limit; a row is at most 64 MiB (memory stays bounded).
    c.add(k, "row_over_64MiB", Setup::kOverLimit, "68000000,Name,Accelerator Core,Start Time(us),Duration(us)\n",
          "kernel_details.csv: line 2: a row longer than 64 MiB");
    c.file_system(k, "kernel_details.csv: no profile found", "kernel_details.csv: no such file or directory",
                  "kernel_details.csv: is a FIFO, expected a profiler output directory or a regular file",
                  "kernel_details.csv: is a character device, expected a profiler output directory or a regular file");
  }

  // task_time_*.csv (analyze).
  {
    const auto& k = kTaskTime;
    const std::string& csv = kTaskTimeCsv;
    const std::string f = "task_time_1763856000.csv";
    c.file(k, "empty_file", "", f + ": empty file, expected a CSV header line", false);
    c.file(k, "header_only", csv.substr(0, csv.find('\n') + 1), f + ": no device tasks", false);
    c.file(k, "missing_column", edit(csv, "task_start(us)", "start"), f + ": line 1: missing column \"task_start(us)\"");
    c.file(k, "truncated_row", csv.substr(0, csv.size() - 50), f + ": line 3: column \"task_start(us)\" is missing (row has 6 fields, header 8)");
    c.file(k, "time_text", edit(csv, ",12.25,", ",x,"), f + ": line 3: column \"task_time(us)\": expected a number, got \"x\"");
    c.file(k, "nan_time", edit(csv, ",12.25,", ",nan,"), f + ": line 3: column \"task_time(us)\": expected a number, got \"nan\"");
    c.file(k, "infinite_time", edit(csv, ",12.25,", ",-inf,"), f + ": line 3: column \"task_time(us)\": expected a number, got \"-inf\"");
    c.file(k, "overflow_1e999", edit(csv, ",12.25,", ",1e999,"), f + ": line 3: column \"task_time(us)\": expected a number, got \"1e999\"");
    c.file(k, "negative_time", edit(csv, ",12.25,", ",-12.25,"), f + ": line 3: column \"task_time(us)\": negative duration -12.25");
    c.file(k, "start_1e30", edit(csv, "1763856000000004.250", "1e30"), f + ": line 3: column \"task_start(us)\": timestamp 1e30 is out of range");
    c.file(k, "not_utf8", edit(csv, "aclnnAdd_AddAiCore_Add", "aclnnAdd_\xed\xa0\x80"), f + ": line 2: not valid UTF-8");
    c.file_system(k, f + ": no profile found", f + ": no such file or directory",
                  f + ": is a FIFO, expected a profiler output directory or a regular file",
                  f + ": is a character device, expected a profiler output directory or a regular file");
  }

  // Workload CSV (tune-ratio --workload).
  {
    const auto& k = kWorkload;
    const std::string& csv = kWorkloadCsv;
    c.file(k, "empty_file", "", "workload.csv: empty file, expected a CSV header line", false);
    c.file(k, "header_only", "num_tokens,weight\n", "workload.csv: empty workload", false);
    c.file(k, "missing_column", edit(csv, "num_tokens", "tokens_per_step"), "workload.csv: line 1: missing column \"num_tokens\" or \"tokens\"");
    c.file(k, "unknown_column", edit(csv, "weight", "weigth"), "workload.csv: line 1: unknown column \"weigth\"");
    c.file(k, "truncated_in_quotes", "num_tokens,weight\n8,\"1", "workload.csv: line 2: unterminated quoted field");
    c.file(k, "tokens_text", edit(csv, "8,1", "eight,1"), "workload.csv: line 2: column \"num_tokens\": expected a number, got \"eight\"");
    c.file(k, "tokens_fraction", edit(csv, "8,1", "7.5,1"), "workload.csv: line 2: num_tokens 7.5 is not a whole number in 1..16777216");
    c.file(k, "weight_text", edit(csv, "72,4", "72,heavy"), "workload.csv: line 3: column \"weight\": expected a number, got \"heavy\"");
    c.file(k, "nan_tokens", edit(csv, "8,1", "nan,1"), "workload.csv: line 2: column \"num_tokens\": expected a number, got \"nan\"");
    c.file(k, "infinite_weight", edit(csv, "72,4", "72,inf"), "workload.csv: line 3: column \"weight\": expected a number, got \"inf\"");
    c.file(k, "overflow_1e999", edit(csv, "72,4", "72,1e999"), "workload.csv: line 3: column \"weight\": expected a number, got \"1e999\"");
    c.file(k, "negative_tokens", edit(csv, "8,1", "-8,1"), "workload.csv: line 2: num_tokens -8 is not a whole number in 1..16777216");
    c.file(k, "zero_tokens", edit(csv, "8,1", "0,1"), "workload.csv: line 2: num_tokens 0 is not a whole number in 1..16777216");
    c.file(k, "tokens_1e30", edit(csv, "8,1", "1e30,1"), "workload.csv: line 2: num_tokens 1e+30 is not a whole number in 1..16777216");
    c.file(k, "negative_weight", edit(csv, "72,4", "72,-1"), "workload.csv: line 3: weight -1 is negative");
    c.file(k, "all_weights_zero", "num_tokens,weight\n8,0\n72,0\n", "workload.csv: all weights are zero", false);
    c.file(k, "duplicate_tokens", edit(csv, "72,4", "8,4"), "workload.csv: line 3: token count 8 appears twice (first on line 2)");
    std::string big = "num_tokens\n";
    for (int i = 1; i <= 4097; ++i) big += std::to_string(i) + "\n";
    c.file(k, "too_many_points", big, "workload.csv: 4097 token counts; at most 4096", false);
    c.file(k, "not_utf8", edit(csv, "72,4", "72,4\xa0"), "workload.csv: line 3: not valid UTF-8");
    c.add(k, "file_over_64MiB", Setup::kOverLimit, "67108864\n", "workload.csv: 67108865 bytes; at most 64 MiB for this input");
    c.file_system(k, "workload.csv: is a directory", "workload.csv: cannot open for reading (No such file or directory)",
                  "workload.csv: empty file, expected a CSV header line",
                  "workload.csv: is a character device, expected a regular file or a pipe");
  }

  // Op times CSV (--op-times).
  {
    const auto& k = kOpTimes;
    const std::string& csv = kOpTimesCsv;
    c.file(k, "empty_file", "", "op_times.csv: empty file, expected a CSV header line", false);
    c.file(k, "missing_column", edit(csv, "duration_us", "us"), "op_times.csv: line 1: missing column \"duration_us\" or \"Duration(us)\"");
    c.file(k, "truncated_in_quotes", csv + "\"norm,128,", "op_times.csv: line 4: unterminated quoted field");
    c.file(k, "empty_name", edit(csv, "norm,8", ",8"), "op_times.csv: line 2: empty op name");
    c.file(k, "tokens_text", edit(csv, "norm,8", "norm,eight"), "op_times.csv: line 2: column \"num_tokens\": expected a number, got \"eight\"");
    c.file(k, "nan_duration", edit(csv, "3.5", "NAN"), "op_times.csv: line 2: column \"duration_us\": expected a number, got \"NAN\"");
    c.file(k, "infinite_duration", edit(csv, "3.5", "Infinity"), "op_times.csv: line 2: column \"duration_us\": expected a number, got \"Infinity\"");
    c.file(k, "overflow_1e999", edit(csv, "3.5", "1e999"), "op_times.csv: line 2: column \"duration_us\": expected a number, got \"1e999\"");
    c.file(k, "negative_duration", edit(csv, "3.5", "-3.5"), "op_times.csv: line 2: duration_us must be >= 0");
    c.file(k, "zero_tokens", edit(csv, "norm,8", "norm,0"), "op_times.csv: line 2: num_tokens must be >= 1");
    c.file(k, "duration_1e30", edit(csv, "3.5", "1e30"), "op_times.csv: line 2: duration_us 1e+30 is above 1000000000 (1000 s)");
    c.file(k, "tokens_1e30", edit(csv, "norm,8", "norm,1e30"), "op_times.csv: line 2: num_tokens 1e+30 is above 16777216");
    c.file(k, "duplicate_point", edit(csv, "norm,72", "norm,8"), "op_times.csv: line 3: \"norm\" at 8 tokens is already given on line 2");
    c.file(k, "not_utf8", edit(csv, "norm,72", "n\x80rm,72"), "op_times.csv: line 3: not valid UTF-8");
    c.file_system(k, "op_times.csv: is a directory", "op_times.csv: cannot open for reading (No such file or directory)",
                  "op_times.csv: empty file, expected a CSV header line",
                  "op_times.csv: is a character device, expected a regular file or a pipe");
  }

  // Outputs that cannot be written: nothing else is written either.
  c.output("simulate_report_in_missing_directory", "simulate -o {NODIR}/report.txt --timeline-csv {OUT2}",
           "missing/report.txt: output directory");
  c.output("simulate_timeline_in_missing_directory", "simulate -o {OUT} --timeline-csv {NODIR}/timeline.csv",
           "missing/timeline.csv: output directory");
  c.output("simulate_report_is_a_directory", "simulate -o {DIR} --timeline-csv {OUT2}",
           "is a directory, expected a file path to write");
  c.output("tune_config_in_missing_directory", "tune-ratio --num-tokens 8 -o {OUT} --out {NODIR}/config.json",
           "missing/config.json: output directory");
  c.output("analyze_cmo_csv_in_missing_directory", "analyze {SAMPLE} -o {OUT} --cmo-csv {NODIR}/cmo.csv",
           "missing/cmo.csv: output directory");
  // One file for two outputs: refused before either is written (once the first replaced it).
  c.output("same_path_for_two_outputs", "simulate -o {OUT} --timeline-csv {OUT}", "report.txt: named for two outputs");
  c.output("same_file_by_two_names", "simulate -o {OUT} --timeline-csv {DIR}/./report.txt",
           "report.txt: the same file for two outputs");
  c.output("tune_same_file_for_config_and_plot", "tune-ratio --num-tokens 8 -o {OUT2} --out {OUT} --plot {OUT}",
           "report.txt: named for two outputs");
  return c.cases_;
}

// A JSON path (": $.", ": $[", ": $:"), "line N" or "byte N".
bool has_location(const std::string& err) {
  for (const char* path : {": $.", ": $[", ": $:"}) {
    if (err.find(path) != std::string::npos) return true;
  }
  for (const char* word : {"line ", "byte "}) {
    for (size_t at = err.find(word); at != std::string::npos; at = err.find(word, at + 1)) {
      const size_t digit = at + std::string(word).size();
      if (digit < err.size() && std::isdigit(static_cast<unsigned char>(err[digit]))) return true;
    }
  }
  return false;
}

// Test names and failure messages show the case, not its bytes.
void PrintTo(const BadInput& c, std::ostream* os) { *os << c.kind << "/" << c.name; }

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

class BadInputCatalogue : public ::testing::TestWithParam<BadInput> {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir(); }
  void TearDown() override {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir_, ec)) fs::permissions(e.path(), fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_P(BadInputCatalogue, OneErrorLineNamingTheFileAndOutputsUntouched) {
  const BadInput& c = GetParam();
  const std::string input = c.file_name.empty() ? "" : dir_ + "/" + c.file_name;
  std::string in;
  switch (c.setup) {
    case Setup::kInline: in = shell_quote(c.content); break;
    case Setup::kFile: in = shell_quote(test::write_file(input, c.content)); break;
    case Setup::kDirectory:
      fs::create_directories(input);
      in = shell_quote(input);
      break;
    case Setup::kUnreadable:
      // Root reads a file of mode 000 anyway: as root, the run drops to the user nobody.
      test::write_file(input, c.content);
      ASSERT_EQ(chmod(input.c_str(), 0), 0);
      in = shell_quote(input);
      break;
    case Setup::kFifo:
      ASSERT_EQ(mkfifo(input.c_str(), 0644), 0) << std::strerror(errno);
      in = shell_quote(input);
      break;
    case Setup::kDevice:
      fs::create_symlink("/dev/zero", input);
      in = shell_quote(input);
      break;
    case Setup::kMissing: in = shell_quote(input); break;
    case Setup::kOverLimit:
      test::write_file(input, c.content);
      fs::resize_file(input, std::stoull(c.content.substr(0, c.content.find('\n'))) + 1);  // sparse: no disk used
      in = shell_quote(input);
      break;
  }
  const std::string out = test::write_file(dir_ + "/report.txt", "keep me\n");
  const std::string out2 = test::write_file(dir_ + "/second.out", "keep me too\n");
  std::string args = replace_all(c.command, "{IN}", in);
  args = replace_all(args, "{OUT}", shell_quote(out));
  args = replace_all(args, "{OUT2}", shell_quote(out2));
  args = replace_all(args, "{NODIR}", shell_quote(dir_ + "/missing"));
  args = replace_all(args, "{DIR}", shell_quote(dir_));
  args = replace_all(args, "{SAMPLE}", shell_quote(test::source_path("tests/data/profiles/task_time_20251123.csv")));
  SCOPED_TRACE("prefetch-tuner " + args);

  // 60 s: a FIFO or a device that blocks the reader shows as exit code 124.
  test::CliResult r;
  if (c.setup == Setup::kUnreadable && geteuid() == 0) {
    std::string skip;
    r = test::run_cli_as_nobody(args, skip);
    if (!skip.empty()) GTEST_SKIP() << "running as root and " << skip << ": a file of mode 000 stays readable to root";
  } else {
    r = test::run_cli(args, 60);
  }
  RecordProperty("stderr", r.err);  // --gtest_output=json lists every message, for review
  // Never a crash: an internal error is 3, a signal gives -1 or 128 + n, a hang 124.
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A short line, even when the input holds a value of 500 MB: quotes are excerpts.
  EXPECT_LE(r.err.size(), kMaxErrorMessageBytes + 40) << r.err.substr(0, 400);
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("what()"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // Exactly one line, the error.
  EXPECT_EQ(r.err.rfind("prefetch-tuner: error: ", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not exactly one line:\n" << r.err;
  EXPECT_PRED2(test::contains, r.err, c.expected);
  // It names the file (or the option), and a place in it when the input has one.
  if (c.setup == Setup::kInline) {
    EXPECT_PRED2(test::contains, r.err, "--additional-config");
  } else if (!input.empty()) {
    EXPECT_PRED2(test::contains, r.err, input);
  }
  if (c.located) {
    EXPECT_TRUE(has_location(r.err)) << "no location in: " << r.err;
  }
  // Nothing was written.
  EXPECT_EQ(test::read_file(out), "keep me\n");
  EXPECT_EQ(test::read_file(out2), "keep me too\n");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (name != "report.txt" && name != "second.out" && name != c.file_name) left.push_back(name);
  }
  EXPECT_TRUE(left.empty()) << "left behind: " << left.front();
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInputCatalogue, ::testing::ValuesIn(catalogue()),
                         [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.kind + "_" + info.param.name; });

// The inputs the cases start from are accepted: each case fails because of its one defect.
TEST(BadInputCatalogueBase, EveryBaseInputIsAccepted) {
  const std::string dir = test::make_temp_dir();
  const std::vector<std::tuple<InputKind, std::string>> bases = {
      {kConfigFile, kPrefetch},     {kModel, kModelJson},       {kModel, kMoeModelJson},
      {kHardware, test::round_hardware_json()},                  {kCalibration, kCalibrationJson},
      {kTrace, kTraceJson},         {kKernel, kKernelCsv},      {kTaskTime, kTaskTimeCsv},
      {kWorkload, kWorkloadCsv},    {kTemplate, kTemplateJson}, {kOpTimes, kOpTimesCsv},
  };
  for (const auto& [kind, content] : bases) {
    const std::string input = test::write_file(dir + "/" + kind.file_name, content);
    std::string args = replace_all(kind.command, "{IN}", shell_quote(input));
    args = replace_all(args, "{OUT}", shell_quote(dir + "/report.txt"));
    args = replace_all(args, "{OUT2}", shell_quote(dir + "/second.out"));
    if (kind.name == std::string("workload_csv")) args += " --search decomposed";
    const test::CliResult r = test::run_cli(args);
  RecordProperty("stderr", r.err);  // --gtest_output=json lists every message, for review
    EXPECT_EQ(r.exit_code, 0) << kind.name << ": " << args << "\n" << r.err;
  }
  const test::CliResult inline_config = test::run_cli("simulate --additional-config " + shell_quote(kPrefetch));
  EXPECT_EQ(inline_config.exit_code, 0) << inline_config.err;
  fs::remove_all(dir);
}

// A file name that is not UTF-8 (Linux allows any bytes) ends up in the JSON report as the model
// name: it is written with U+FFFD, not refused as an internal error.
TEST(BadInputCatalogueBase, FileNameThatIsNotUtf8IsNoInternalError) {
  const std::string dir = test::make_temp_dir();
  const std::string model = dir + "/q\xff.json";
  fs::copy_file(test::source_path("sample_profiles/models/Qwen3-8B.json"), model);
  const test::CliResult r = test::run_cli("simulate --format json --model " + shell_quote(model));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_PRED2(test::contains, r.out, "\"model\": \"q\xef\xbf\xbd\"");  // U+FFFD
  fs::remove_all(dir);
}

// The catalogue covers every input kind with the cases the issue lists.
TEST(BadInputCatalogueBase, EveryKindHasItsCases) {
  std::map<std::string, int> per_kind;
  for (const auto& c : catalogue()) ++per_kind[c.kind];
  for (const char* kind : {"additional_config_inline", "additional_config_file", "config_json", "hardware_profile",
                           "calibration", "trace_view_json", "kernel_details_csv", "task_time_csv", "workload_csv",
                           "layer_template", "op_times_csv", "output"}) {
    EXPECT_GE(per_kind[kind], 5) << kind;
  }
}

}  // namespace
}  // namespace pt
