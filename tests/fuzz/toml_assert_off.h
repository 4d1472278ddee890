// Included before every source of the fuzz build (top-level CMakeLists.txt).
// toml++'s internal assertions are off, as in the release build: a few of them
// assert what bad input can break ("[[\0"), where the parser, with the
// assertion compiled out (as g++ builds it), goes on to report the error.
#pragma once
#define TOML_ASSERT(expr) static_cast<void>(0)
