#pragma once
// Every JSON output of the tool goes through json_output(): one place for what scripts may rely on.
//   - a byte count (a key ending in "bytes" / "Bytes", or an array under one) is an integer,
//     never 13107200.0;
//   - rounding noise is 0: a float with |x| < 1e-9 (a femtosecond, a billionth of a percent)
//     becomes 0, so no -4.28e-13 and no -0; ratios (a key containing "ratio") are left as they are,
//     since the smallest ratio that issues one byte of a large weight is about 1e-9;
//   - indented, with a final newline; invalid UTF-8 from the user's world (file names, names in a
//     profile) becomes U+FFFD instead of failing the run.
#include <string>

#include <nlohmann/json.hpp>

namespace pt {

nlohmann::json tidy_json(nlohmann::json j);
std::string json_output(const nlohmann::json& j);

}  // namespace pt
