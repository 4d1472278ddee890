#define TOML_IMPLEMENTATION
#include "config/toml_fwd.h"
