#!/bin/sh
# deb.sh - build the Debian package from a copy of the source tree.
#
#   scripts/deb.sh OUTDIR
#
# Copies the tree (the files git tracks, or everything but build output
# outside a git checkout) to OUTDIR/deb/sbckit-VERSION, runs
# dpkg-buildpackage there, and checks the package with lintian, which must
# report no error. Leaves OUTDIR/deb/sbckit_VERSION_ARCH.deb and prints its
# path. Exit: 0 built and accepted, 1 a step failed (its output says which),
# 2 usage.
set -eu

[ $# -eq 1 ] || { echo "usage: scripts/deb.sh OUTDIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1/deb" && cd "$1/deb" && pwd)

for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null 2>&1 || {
		echo "deb: $t is missing: apt-get install dpkg-dev debhelper lintian" >&2
		exit 1; }
done

ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
mkver=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
if [ "$ver" != "$mkver" ]; then
	echo "deb: debian/changelog says $ver, the Makefile's VERSION $mkver" >&2
	exit 1
fi

src=$out/sbckit-$ver
rm -rf "$src" "$out"/sbckit_"$ver"* "$out"/sbckit-dbgsym_"$ver"*
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked files as they are in the work tree (edits included)
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	    tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$top" && tar --exclude=./build --exclude='./build-*' \
	    --exclude=./node_modules --exclude=./tests/browser/node_modules \
	    -cf - .) | tar -C "$src" -xf -
fi
rm -rf "$src/build" "$src"/build-* "$src/tests/browser/node_modules"

echo "deb: building sbckit $ver in $src" >&2
(cd "$src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") > "$out/build.log" 2>&1 || {
	tail -30 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log: $out/build.log" >&2
	exit 1; }
deb=$(ls "$out"/sbckit_"$ver"_*.deb)
lintian --fail-on error --tag-display-limit 0 "$deb" > "$out/lintian.log" 2>&1 || {
	cat "$out/lintian.log" >&2
	echo "deb: lintian found errors in $deb" >&2
	exit 1; }
echo "$deb"
