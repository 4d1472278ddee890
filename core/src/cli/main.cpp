// sluice: a stream connector. The command is in libsluice (cli_main.cpp).
#include "cli/cli_main.h"

int main(int argc, char** argv) { return sluice_cli_main(argc, argv); }
