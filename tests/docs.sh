#!/bin/sh
# docs.sh: the documents hold together.  Every manual page passes
# `mandoc -T lint -W warning` with no output at all (mandoc exits 0 on
# some warnings, so any line it prints is a failure), and every relative
# link in README.md and docs/*.md names a file that exists.
#
# Without mandoc (bootstrap installs it as optional) the pages are not
# linted, and the test says so; the links are checked all the same.  The
# test is skipped (status 77) only when nothing at all could be checked.
set -u

srcdir=${HERD_SRCDIR:-.}
checked=0
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

if command -v mandoc >/dev/null 2>&1; then
	for page in "$srcdir"/man/*.[1-8]; do
		checked=$((checked + 1))
		out=$(mandoc -T lint -W warning "$page" 2>&1)
		if [ -n "$out" ]; then
			fail "mandoc -T lint -W warning $(basename "$page"):"
			echo "$out"
		else
			echo "ok: mandoc lint $(basename "$page")"
		fi
	done
else
	echo "skip: mandoc not found (apt-get install mandoc), pages not linted"
fi

# Markdown links [text](target): local targets only, the #anchor dropped.
for doc in "$srcdir"/README.md "$srcdir"/docs/*.md; do
	[ -f "$doc" ] || continue
	dir=$(dirname "$doc")
	for target in $(grep -o '](\([^)#]*\)[^)]*)' "$doc" |
	    sed -e 's/^](//' -e 's/)$//' -e 's/#.*//' | sort -u); do
		case $target in
		''|http://*|https://*|mailto:*) continue ;;
		esac
		checked=$((checked + 1))
		if [ -e "$dir/$target" ]; then
			echo "ok: $(basename "$doc") links to $target"
		else
			fail "$(basename "$doc") links to $target, which does not exist"
		fi
	done
done

echo "Ran $checked tests"
if [ "$failed" -ne 0 ]; then
	echo "FAILED (failures=$failed)"
	exit 1
fi
[ "$checked" -eq 0 ] && exit 77
echo "OK"
