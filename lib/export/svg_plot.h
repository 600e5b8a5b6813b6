#pragma once
// SVG charts for tune-ratio --plot: step time against each key's ratio (others at their best),
// the chosen point marked, and a heat map when exactly two keys are tuned together.
#include <string>

#include "search/ratio_search.h"

namespace pt {

std::string tune_plot_svg(const TuneResult& result, const std::string& title);

// Text as it may stand in an SVG element or a double-quoted attribute (< > & " escaped). Every
// SVG the tool writes (this plot, the break-even map) passes its labels through it.
std::string svg_escape(const std::string& s);

}  // namespace pt
