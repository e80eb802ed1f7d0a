#!/bin/sh
# layers.sh: every source file includes only what its layer may.
#
#   common      what every program links: no libevent, SQLite, curl or
#               Jansson header, and only common headers of ours
#   member      the member's pure code: no event loop, database or
#               network (Jansson is allowed: it only parses)
#   supervisor  herd-supervisor: libevent, but nothing of the member
#   herdctl     plain C and the common layer
#
# Inside the supervisor the files call each other one way only, from
# the top (herd-supervisor.c) down: control, reload, the member layer,
# the capture of members' output, the supervisor's own log lines, the log
# files.  A file may include the headers of the files below it, never of
# those above (the member layer reports up through a callback).
#
# make check passes each layer's files in LAYER_COMMON, LAYER_MEMBER,
# LAYER_SUPERVISOR and LAYER_HERDCTL (from Makefile.am, so a new file
# is checked with its layer).  It also checks that herd-supervisor and
# herdctl contain none of the member's code or its libraries, and that
# the check itself catches a bad include.
set -u

srcdir=${HERD_SRCDIR:-.}
builddir=${HERD_BUILDDIR:-.}
checked=0
failed=0

# The header names (without folder) of the .h files in a list.
headers() {
	for f in $1; do
		case $f in *.h) basename "$f" ;; esac
	done
}

# check FILE FORBIDDEN_SYSTEM_REGEX ALLOWED_LOCAL_HEADERS
check() {
	file=$1 forbidden=$2 allowed=$3
	checked=$((checked + 1))
	bad=$(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$file" |
	    grep -E "$forbidden")
	if [ -n "$bad" ]; then
		echo "FAIL: $file: $bad"
		return 1
	fi
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
		case " config.h $allowed " in
		*" $h "*) ;;
		*)
			echo "FAIL: $file: includes \"$h\", outside its layer"
			return 1
			;;
		esac
	done
	return 0
}

# check_layer NAME FILES FORBIDDEN ALLOWED
check_layer() {
	for f in $2; do
		case $f in *.c|*.h) ;; *) continue ;; esac
		if ! check "$srcdir/$f" "$3" "$4"; then
			failed=$((failed + 1))
		else
			echo "ok: $f ($1)"
		fi
	done
}

NOLOOP='<(event2/|sqlite3\.h|curl/|jansson\.h)'
NODB='<(event2/|sqlite3\.h|curl/)'
NOMEMBER='<(sqlite3\.h|curl/|jansson\.h|openssl/)'

common=$(headers "$LAYER_COMMON" | tr "\n" " ")
member=$(headers "$LAYER_MEMBER" | tr "\n" " ")
supervisor=$(headers "$LAYER_SUPERVISOR" | tr "\n" " ")
herdctl=$(headers "$LAYER_HERDCTL" | tr "\n" " ")

check_layer common "$LAYER_COMMON" "$NOLOOP" "$common"
check_layer member "$LAYER_MEMBER" "$NODB" "$common $member"
check_layer supervisor "$LAYER_SUPERVISOR" "$NOMEMBER" "$common $supervisor"
check_layer herdctl "$LAYER_HERDCTL" "$NOLOOP|<openssl/" "$common $herdctl"

# The supervisor's files, top first.
SV_ORDER="herd-supervisor control http reload member probe ask capture svlog logfile"

# check_order FILE: FILE includes no header of a supervisor file above it.
check_order() {
	file=$1 me=$(basename "$1" .c) above=""
	for name in $SV_ORDER; do
		[ "$name" = "$me" ] && break
		above="$above $name.h"
	done
	[ "$above" = "$(printf ' %s.h' $SV_ORDER)" ] && return 0	# not ranked
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
		case "$above " in
		*" $h "*)
			echo "FAIL: $file: includes \"$h\", a layer above it"
			return 1
			;;
		esac
	done
	return 0
}

for f in $LAYER_SUPERVISOR; do
	case $f in *.c) ;; *) continue ;; esac
	checked=$((checked + 1))
	if ! check_order "$srcdir/$f"; then
		failed=$((failed + 1))
	else
		echo "ok: $f (supervisor order)"
	fi
done

# The programs: no member code, no member library.
for prog in herd-supervisor herdctl; do
	checked=$((checked + 1))
	if ! command -v nm >/dev/null 2>&1; then
		echo "skip: $prog (no nm)"
		continue
	fi
	syms=$(nm "$builddir/$prog" 2>/dev/null |
	    grep -E ' (sqlite3_|curl_|json_|store_|client_|places_|proto_|cmd_)' |
	    head -3)
	if [ -n "$syms" ]; then
		echo "FAIL: $prog holds member code: $syms"
		failed=$((failed + 1))
	else
		echo "ok: $prog links none of the member's code"
	fi
done
checked=$((checked + 1))
if nm "$builddir/herdctl" 2>/dev/null | grep -q ' event_base_'; then
	echo "FAIL: herdctl links libevent"
	failed=$((failed + 1))
else
	echo "ok: herdctl links no libevent"
fi

# The check must catch a bad include, or it proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "config.h"\n#include <event2/event.h>\n' >"$tmp/a.c"
printf '#include "config.h"\n#include "store.h"\n' >"$tmp/b.c"
printf '#include "config.h"\n#include "log.h"\n#include <stdio.h>\n' >"$tmp/c.c"
mkdir "$tmp/sv"
printf '#include "config.h"\n#include "member.h"\n#include "control.h"\n' \
    >"$tmp/sv/member.c"
printf '#include "config.h"\n#include "reload.h"\n#include "member.h"\n' \
    >"$tmp/sv/control.c"
checked=$((checked + 1))
if check_order "$tmp/sv/member.c" >/dev/null ||
    ! check_order "$tmp/sv/control.c" >/dev/null; then
	echo "FAIL: the order check does not tell a call up from a call down"
	failed=$((failed + 1))
else
	echo "ok: the order check catches member.c including control.h"
fi
checked=$((checked + 1))
if check "$tmp/a.c" "$NOLOOP" "$common" >/dev/null ||
    check "$tmp/b.c" "$NOLOOP" "$common" >/dev/null ||
    ! check "$tmp/c.c" "$NOLOOP" "$common" >/dev/null; then
	echo "FAIL: the check does not tell good includes from bad"
	failed=$((failed + 1))
else
	echo "ok: the check catches <event2/...> and \"store.h\" in common code"
fi

# Proofs of the herd key are compared in constant time: the function that
# compares them calls CRYPTO_memcmp and nothing that stops at the first
# difference, and the handshake code compares no proof by itself.
# check_consttime PEERPROTO_C HANDSHAKE_C...
EARLYCMP='(^|[^_[:alnum:]])(memcmp|bcmp|strn?cmp|strn?casecmp)[[:space:]]*\('
check_consttime() {
	body=$(sed -n '/^peerproto_mac_equal(/,/^}/p' "$1")
	shift
	if ! printf '%s\n' "$body" | grep -q 'CRYPTO_memcmp('; then
		echo "FAIL: peerproto_mac_equal does not use CRYPTO_memcmp"
		return 1
	fi
	bad=$(printf '%s\n' "$body" | grep -E "$EARLYCMP")
	if [ -n "$bad" ]; then
		echo "FAIL: peerproto_mac_equal compares early-out: $bad"
		return 1
	fi
	bad=$(grep -nE "$EARLYCMP" "$@" | grep -E '(want|got|mine|proof)')
	if [ -n "$bad" ]; then
		echo "FAIL: a proof compared without peerproto_mac_equal: $bad"
		return 1
	fi
	return 0
}
checked=$((checked + 1))
if check_consttime "$srcdir/src/peerproto.c" "$srcdir/src/peer.c" \
    "$srcdir/src/cmd-peer.c"; then
	echo "ok: proofs are compared with CRYPTO_memcmp"
else
	failed=$((failed + 1))
fi

# And it must catch a plain memcmp, in the function or beside it.
sed 's/CRYPTO_memcmp(/memcmp(/' "$srcdir/src/peerproto.c" >"$tmp/p1.c"
printf 'int\npeerproto_mac_equal(const char *a, const char *b)\n{\n\treturn (CRYPTO_memcmp(a, b, 64) == 0 && strcmp(a, b) == 0);\n}\n' \
    >"$tmp/p2.c"
printf 'if (memcmp(want, got, 64) != 0)\n' >"$tmp/h.c"
checked=$((checked + 1))
if check_consttime "$tmp/p1.c" "$srcdir/src/cmd-peer.c" >/dev/null ||
    check_consttime "$tmp/p2.c" "$srcdir/src/cmd-peer.c" >/dev/null ||
    check_consttime "$srcdir/src/peerproto.c" "$tmp/h.c" >/dev/null; then
	echo "FAIL: the check does not catch a plain memcmp of proofs"
	failed=$((failed + 1))
else
	echo "ok: the check catches a memcmp of proofs"
fi

echo "Ran $checked tests"
if [ "$failed" -ne 0 ]; then
	echo "FAILED (failures=$failed)"
	exit 1
fi
echo "OK"
