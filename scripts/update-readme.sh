#!/usr/bin/env bash
# Regenerates the README's plugin reference from the option tables
# (`sluice plugins --markdown`); a test fails when it is stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sluice=${SLUICE_BIN:-$root/build/core/sluice}
ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
"$sluice" plugins --markdown >"$ref"
python3 - "$root/README.md" "$ref" <<'PY'
import sys
readme, ref = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
begin, end = "<!-- plugins:begin -->\n", "<!-- plugins:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:a] + ref.strip() + "\n" + text[b:])
PY
