// `sluice test`: runs the cases of a transform test file (TOML) through the
// same chain the pipelines use and reports each with a readable diff.
//
//   scripts = ["validate_route.lua"]           # or script = "..."; relative to this file
//   [[cases]]
//   name = "a valid point passes"
//   input = { user_id = 42, lat = 12.5 }       # or input_json = '...' (any text)
//   meta = { key = "42", topic = "routes", partition = 0, offset = 7, timestamp = 1700000000.0, headers = { h = "v" } }
//   output = { user_id = 42, lat = 12.5 }      # or outputs = [ ... ], output_json / outputs_json,
//                                              # or drop = true, or reject = "Lua pattern"
//   key = "42"                                 # optional: the key every output must carry
//   headers = { h = "v" }                      # optional: headers every output must carry
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sluice {

struct TestFileResult {
  int passed = 0, failed = 0;
  bool file_error = false;  // unreadable, malformed, or a script that does not load
};

// Runs one file; writes the report to `report`.
TestFileResult run_test_file(const std::string& path, std::FILE* report);

// Every *.test.toml under `dir`/transforms and `dir`/pipelines, sorted.
std::vector<std::string> find_test_files(const std::string& dir);
// Every *.test.toml under ROOT, at any depth, sorted; none when ROOT is not a directory.
std::vector<std::string> find_test_files_in(const std::string& root);

}  // namespace sluice
