#!/bin/sh
# make-manpage.sh SLUICE OUT: writes sluice(1) from the program's own help:
# `sluice --help` (by help2man) and, as the section COMMANDS, every
# command's `sluice CMD --help`, so the page cannot drift from the CLI.
set -eu
out=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
include=$dir/include
# Run as `sluice`, so that each Usage: line names the command, not the build path.
ln -s "$(realpath "$1")" "$dir/sluice"
bin=sluice
PATH=$dir:$PATH

commands=$("$bin" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$commands" ] || { echo "make-manpage.sh: no Subcommands: in \`$bin --help\`" >&2; exit 1; }
{
  echo "[COMMANDS]"
  for c in $commands; do
    echo ".SS \"sluice $c\""
    echo ".nf"
    # Literal text: escape backslashes, and lines that would read as requests.
    "$bin" "$c" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  done
  cat <<'ROFF'
[FILES]
.TP
.I /etc/sluice/NAME.toml
a pipeline, run by
.B systemctl enable \-\-now sluice@NAME
(the unit sluice@.service runs it as the user sluice).
.TP
.I /etc/default/sluice
the services' environment (mode 0600): addresses and secrets that pipelines
refer to as ${NAME}.
.TP
.I /var/lib/sluice/NAME
the state directory of sluice@NAME.
.TP
.I /usr/lib/sluice/plugins
the default plugin directory (shared objects built against libsluice-dev).
.TP
.I /usr/share/sluice/pipelines, /usr/share/sluice/transforms
example pipelines with their SQL, and Lua transforms with their tests.
[SEE ALSO]
.BR systemctl (1),
.BR journalctl (1)
ROFF
} >"$include"

help2man --no-info --section=1 --source="sluice" \
  --name="stream connector: sources -> Kafka -> sinks, from one TOML pipeline file" \
  --include="$include" --output="$out" "$bin"
