#!/bin/sh
# lint.sh - ban unsafe C calls, keep lib/'s wings in order, and lint every
# man page with mandoc.
set -u
st=0
banned='(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|sscanf)[[:space:]]*\('
hits=$(grep -nE "$banned" lib/*/*.[ch] tools/*.[ch] 2>/dev/null)
if [ -n "$hits" ]; then
	echo "lint: banned calls:" >&2
	echo "$hits" >&2
	st=1
fi
# lib/README.md: a wing includes only base/ and the wings allowed to it.
allowed() {
	case $1 in
	base) echo "base" ;;
	media|ng) echo "base $1" ;;
	sip|relay) echo "base media ng $1" ;;
	cap) echo "base media sip cap" ;;
	gw) echo "base gw" ;;
	*) echo "" ;;
	esac
}
for d in lib/*/; do
	w=$(basename "$d")
	ok=$(allowed "$w")
	if [ -z "$ok" ]; then
		echo "lint: lib/$w: not a wing of lib/README.md" >&2; st=1; continue
	fi
	for f in "$d"*.[ch]; do
		for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f" | sort -u); do
			case " $ok " in *" $inc "*) ;; *)
				echo "lint: $f: includes $inc/, which wing $w may not use" >&2
				st=1 ;;
			esac
		done
	done
done
for f in lib/*/*.[ch]; do
	if grep -qE '^#include "[a-z_0-9]+\.h"' "$f"; then
		echo "lint: $f: an include that does not name its wing" >&2
		st=1
	fi
done
for f in lib/*.[ch]; do
	[ -e "$f" ] && { echo "lint: $f: outside every wing" >&2; st=1; }
done
for m in man/man1/*.1 man/man7/*.7; do
	[ -f "$m" ] || continue
	out=$(mandoc -Tlint -W warning "$m" 2>&1)
	if [ -n "$out" ]; then
		echo "$out" >&2
		st=1
	fi
done
[ $st = 0 ] && echo "lint: ok"
exit $st
