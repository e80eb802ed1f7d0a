#!/bin/sh
# systemd.sh: make install puts every file in its usual place, and the
# unit files, as installed, pass systemd-analyze verify.
#
# The install goes to a temporary prefix, so that the units name
# programs, manual pages and a herd.conf that really exist there.
# systemd-analyze can exit 0 while it prints errors, so any output at
# all is a failure.  Without systemd-analyze, only the install is checked.
set -u

builddir=${HERD_BUILDDIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/usr
units=$prefix/lib/systemd/system
checked=0
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

checked=$((checked + 1))
if ! ${MAKE:-make} -C "$builddir" install prefix="$prefix" \
    sysconfdir="$tmp/etc" systemdsystemunitdir="$units" \
    >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	fail "make install"
fi

for f in bin/herd-server bin/herd-supervisor bin/herdctl \
    share/man/man8/herd-server.8 share/man/man8/herd-supervisor.8 \
    share/man/man8/herdctl.8 share/man/man5/herd.conf.5 \
    lib/systemd/system/herd.service lib/systemd/system/herd-member@.service \
    lib/systemd/system/herd.target share/doc/herd/examples/herd.conf; do
	checked=$((checked + 1))
	if [ -s "$prefix/$f" ]; then
		echo "ok: installed $f"
	else
		fail "not installed: $f"
	fi
done
checked=$((checked + 1))
if grep -q "^data_dir *$" "$tmp/etc/herd/herd.conf" 2>/dev/null ||
    ! [ -s "$tmp/etc/herd/herd.conf" ]; then
	fail "no herd.conf in sysconfdir"
else
	echo "ok: installed etc/herd/herd.conf"
fi
checked=$((checked + 1))
if grep -qx "ExecStart=$prefix/bin/herd-supervisor -f -c $tmp/etc/herd/herd.conf" \
    "$units/herd.service"; then
	echo "ok: herd.service runs the installed herd-supervisor"
else
	fail "herd.service: $(grep ExecStart "$units/herd.service")"
fi

if [ "${SYSTEMD_ANALYZE:-no}" = no ] || ! [ -x "$SYSTEMD_ANALYZE" ]; then
	echo "skip: systemd-analyze not found"
else
	# Documentation= pages are checked with man(1) when it is there; a
	# minimal machine has none, and that says nothing of the units.
	manopt=
	command -v man >/dev/null 2>&1 || manopt=--man=no
	# A template is verified as one of its instances.
	cp "$units/herd-member@.service" "$tmp/herd-member@Goloman.service"
	for u in "$units/herd.service" "$tmp/herd-member@Goloman.service" \
	    "$units/herd.target"; do
		checked=$((checked + 1))
		out=$(MANPATH="$prefix/share/man" "$SYSTEMD_ANALYZE" verify \
		    $manopt "$u" 2>&1)
		status=$?
		if [ $status -ne 0 ] || [ -n "$out" ]; then
			fail "systemd-analyze verify $(basename "$u") (status $status):"
			echo "$out"
		else
			echo "ok: systemd-analyze verify $(basename "$u")"
		fi
	done
fi

echo "Ran $checked tests"
if [ "$failed" -ne 0 ]; then
	echo "FAILED (failures=$failed)"
	exit 1
fi
echo "OK"
