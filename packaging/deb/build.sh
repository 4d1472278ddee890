#!/usr/bin/env bash
# packaging/deb/build.sh [OUTDIR]: builds the sluice .deb packages and prints
# the directory that holds them (default: build-deb/ at the top of the tree).
#
# debian/ lives in packaging/deb/, not at the root, so the build runs in a
# temporary copy of the tree (the files git knows, or the whole tree when
# there is no .git, e.g. an exported archive) with debian/ placed at its
# root and debian/changelog written from the one version there is:
# project(sluice VERSION ...) in CMakeLists.txt, which `sluice --version` shows.
# Needs the Build-Depends of packaging/deb/debian/control (scripts/deps.sh
# --tests installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^project(sluice VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[[ -n $version ]] || { echo "build.sh: no project(sluice VERSION x.y.z) in CMakeLists.txt" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/sluice-$version
mkdir "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new files as they are in the work tree (deleted ones
  # skipped), never build output.
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi; done |
     tar --null --no-recursion -T - -cf -) | tar -xf - -C "$src"
else
  tar -C "$root" --exclude='./build*' -cf - . | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -a "$root/packaging/deb/debian" "$src/debian"

maintainer=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
cat >"$src/debian/changelog" <<CHANGELOG
sluice ($version) unstable; urgency=medium

  * Version $version, from project(sluice VERSION $version) in CMakeLists.txt.

 -- $maintainer  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")
CHANGELOG

(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "build.sh: dpkg-buildpackage failed (the last 60 lines above)" >&2
  exit 1
}
rm -f "$out"/sluice_*.deb "$out"/libsluice0_*.deb "$out"/libsluice-dev_*.deb "$out"/sluice-dbgsym_*.deb "$out"/libsluice0-dbgsym_*.deb "$out"/sluice_*.buildinfo "$out"/sluice_*.changes
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
shopt -s nullglob
for f in "$work"/*.ddeb; do mv "$f" "$out"/; done
cp "$work/build.log" "$out/build.log"
echo "$out"
