#pragma once
#include <string>

namespace pt {

// Whole file as a string; InputError naming the path when it is missing, a directory or unreadable.
std::string read_text_file(const std::string& path);

// Writes whole or not at all: the content goes to a temporary file beside `path`, which is
// renamed over it only once complete, so a failure leaves any existing file untouched.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace pt
