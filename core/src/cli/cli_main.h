// The sluice command, inside libsluice: exported for the executable, not
// part of the public API.
#pragma once

extern "C" __attribute__((visibility("default"))) int sluice_cli_main(int argc, char** argv);
