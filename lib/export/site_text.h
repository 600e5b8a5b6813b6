#pragma once
// The words for the codes that results carry (what set a site's bytes, how it is waited for, why it
// does not fire): one table per code set, each row the code's name and its sentence. Every report
// (text, JSON, tune-ratio's left-out list) says them through here.
#include <string>

#include "sim/simulator.h"

namespace pt {

const char* issue_limit_name(IssueLimit l);  // "ratio", "cap (code)", "L2" ...
const char* join_kind_name(JoinKind k);      // "own wait", "next wait" ...
const char* site_off_code(SiteOffReason r);  // stable name for scripts: "config_off", "step_token_gate" ...
std::string site_off_sentence(const SiteOff& off);  // the reason in words, with its facts

}  // namespace pt
