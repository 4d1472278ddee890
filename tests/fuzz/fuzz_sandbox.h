// Where a fuzz target may touch files: a fresh temporary directory, made the
// current one, holding only the fixture files the target asks for. Paths the
// fuzzer writes are then taken from there and nothing outside is read.
#pragma once

#include <map>
#include <string>

namespace sluice_fuzz {

// Creates the directory (under $TMPDIR, else /tmp) once, writes `files`
// (name -> content) into it, changes into it and removes it at exit.
// Returns its path. Aborts when it cannot be made: nothing could be fuzzed.
const std::string& enter_sandbox(const std::map<std::string, std::string>& files);

// Writes `size` bytes at `data` to `name` in the current directory (the sandbox).
void write_file(const std::string& name, const void* data, size_t size);

}  // namespace sluice_fuzz
