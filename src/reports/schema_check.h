// Test support: validates a JSON document against one of the committed schemas (schemas/)
// with a real JSON Schema validator, Debian's python3-jsonschema, through
// tests/validate_json.py run by /usr/bin/python3.
#pragma once

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace carbonclock::testing {

/// "" when `json_text` is valid against schemas/SCHEMA_FILE; else the validator's report (one
/// line per error), or why it could not run (python3-jsonschema missing: install it, the
/// test fails rather than skips).
inline std::string schema_errors(const std::string& schema_file, const std::string& json_text) {
  namespace fs = std::filesystem;
  const fs::path source = CARBONCLOCK_SOURCE_DIR;
  static int counter = 0;
  const fs::path doc =
      fs::temp_directory_path() / fmt::format("cc_schema_{}_{}.json", ::getpid(), counter++);
  std::ofstream(doc) << json_text;
  const std::string cmd = fmt::format("/usr/bin/python3 '{}' '{}' '{}' 2>&1",
                                      (source / "tests" / "validate_json.py").string(),
                                      (source / "schemas" / schema_file).string(), doc.string());
  std::string out;
  int status = -1;
  if (std::FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    status = ::pclose(p);
  }
  std::error_code ec;
  fs::remove(doc, ec);
  if (status == 0) return "";
  return fmt::format("{} (validator exit status {}): {}", schema_file,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                     out.empty() ? "no output (is /usr/bin/python3 installed?)" : out);
}

}  // namespace carbonclock::testing
