#!/bin/sh
# lint.sh - ban unsafe C calls, and lint every man page with mandoc.
set -u
st=0
banned='(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|sscanf)[[:space:]]*\('
hits=$(grep -nE "$banned" lib/*.[ch] tools/*.[ch] 2>/dev/null)
if [ -n "$hits" ]; then
	echo "lint: banned calls:" >&2
	echo "$hits" >&2
	st=1
fi
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
