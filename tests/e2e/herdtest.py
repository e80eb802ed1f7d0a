"""herdtest: start real herd programs on free ports in temporary folders.

Every end-to-end test uses this module: it writes a topology file, runs
the real herd-server from the build tree, talks to it over real sockets,
and stops every process it started.  A member's log is kept in its
temporary folder and printed only when a test fails.
"""

import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import json

BUILDDIR = os.environ.get("HERD_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
SRCDIR = os.environ.get("HERD_SRCDIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.path.join(BUILDDIR, "herd-server")
PLACES = os.path.join(BUILDDIR, "herd-places")
SUPERVISOR = os.path.join(BUILDDIR, "herd-supervisor")
HERDCTL = os.path.join(BUILDDIR, "herdctl")
FAKE_PLACES = os.path.join(SRCDIR, "tests", "fake_places.py")
FAKE_MEMBER = os.path.join(SRCDIR, "tests", "fake_member.py")
# The start of every gathered log line: time, then NAME[PID].
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
EXIT_CONFIG = 78

# The IAMAT example of the client protocol.
KIWI = b"IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997"


_given_ports = set()


def free_port():
    """A TCP port that nothing uses right now, below the kernel's range
    of ephemeral ports: a port the kernel hands out (bind to 0) can be
    taken again at once as the source port of some member's outgoing
    peer dial, before the member it was meant for listens on it.  Never
    the same port twice in one test process: a herd asks for several
    before any member listens."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(10000, max(low, 10001))
        if port in _given_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    raise AssertionError("no free port below %d" % low)


def split_whatsat(reply):
    """(AT line with newline, parsed JSON), checking the framing."""
    at, rest = reply.split(b"\n", 1)
    assert rest.endswith(b"\n\n"), rest[-20:]
    assert not rest.endswith(b"\n\n\n"), rest[-20:]
    assert b"\n\n" not in rest[:-2], "empty line inside the JSON"
    return at + b"\n", json.loads(rest)


def others_may_run(path):
    """Can a user other than the owner run path: every folder on the way
    searchable, and the file executable, by others?"""
    path = os.path.abspath(path)
    if not os.stat(path).st_mode & stat.S_IXOTH:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
        if d == os.path.dirname(d):
            return True
        d = os.path.dirname(d)


def strace_env():
    """LeakSanitizer cannot run in a traced process: off, for a member
    that a test traces."""
    opts = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
    return {"ASAN_OPTIONS": ":".join(opts + ["detect_leaks=0"])}


def sanitizer_report(text):
    """The first sanitizer report in a log, or None."""
    m = re.search(r"^.*(AddressSanitizer|LeakSanitizer|runtime error:).*$",
                  text, re.M)
    return m.group(0) if m else None


class Member:
    """One herd-server process."""

    def __init__(self, herd, name):
        self.herd = herd
        self.name = name
        self.port = herd.ports[name]
        self.proc = None
        self.reaped = False     # the test itself waited for the exit
        self.log_path = os.path.join(herd.dir, name + ".stderr")

    def start(self, wait=True, args=(), env=None, conf=None, preexec=None,
              wrap=()):
        """Start the member; env adds to (None values remove from) the
        environment, which never carries a Places key unless asked;
        conf replaces the herd's topology file; wrap is a command that
        runs it (such as strace -o FILE), and then proc is that one."""
        self.reaped = False
        e = dict(os.environ)
        e.pop("HERD_PLACES_KEY", None)
        for k, v in (env if env is not None else self.herd.env).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*wrap, SERVER, "-c", conf or self.herd.conf, *args, self.name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=e,
            preexec_fn=preexec)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %d:\n%s" % (
                    self.name, self.proc.returncode, self.log()))
            try:
                # Wait for the member's close too, so that this probe
                # no longer counts against max_clients.
                with socket.create_connection(("127.0.0.1", self.port),
                                              1) as s:
                    s.shutdown(socket.SHUT_WR)
                    s.settimeout(5)
                    while s.recv(4096):
                        pass
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("%s did not listen in %ss" % (self.name, timeout))

    def wait_exit(self, timeout=10):
        """Wait for a member that the test expects to exit by itself."""
        status = self.proc.wait(timeout)
        self.reaped = True
        return status

    def stop(self):
        """SIGTERM, and check the member stopped cleanly (status 0, no
        sanitizer report).  A member that already died unexpectedly
        returns its status, so that the test fails."""
        if self.proc is None or self.reaped:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s ignored SIGTERM" % self.name)
        self.reaped = True
        return status

    def kill(self):
        """SIGKILL, as a crash would; the exit is expected."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reaped = True

    def wait_log(self, pattern, timeout=10):
        """Wait until the log matches the regular expression pattern: a
        member writes its log lines after the loop turn that made them,
        so a client can see an effect before its line is there."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log()):
            if time.monotonic() > deadline:
                raise AssertionError("%s: no %r in the log:\n%s" %
                                     (self.name, pattern, self.log()))
            time.sleep(0.02)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def db(self):
        return os.path.join(self.herd.dir, "var", "lib", self.name + ".db")

    def connect(self, timeout=10):
        c = Conn(("127.0.0.1", self.port), timeout)
        self.herd.conns.append(c)
        return c

    def ask(self, data, timeout=10):
        """Send data, half-close, and return everything until the member
        closes the connection."""
        c = self.connect(timeout)
        try:
            c.send(data)
            c.shutdown()
            return c.read_all()
        finally:
            c.close()

    @property
    def admin_path(self):
        return os.path.join(self.herd.dir, "var", "run",
                            "member-%s.sock" % self.name)

    def admin(self, *requests, timeout=10):
        """Send requests (lines) on the member's own control socket and
        return, for each but blank ones, its lines up to and including "ok" or
        "error ..."."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self.admin_path)
            s.sendall(b"".join(r.encode() + b"\n" for r in requests))
            buf, replies, lines = b"", [], []
            # A blank line asks nothing and gets no reply.
            while len(replies) < len([r for r in requests if r.strip()]):
                while b"\n" not in buf:
                    data = s.recv(65536)
                    if not data:
                        raise AssertionError("control socket closed: %r"
                                             % (replies, lines, buf))
                    buf += data
                line, buf = buf.split(b"\n", 1)
                lines.append(line.decode())
                if line == b"ok" or line.startswith(b"error "):
                    replies.append(lines)
                    lines = []
            return replies

    def sqlite(self, sql):
        """Run sql in the sqlite3 shell against this member's database."""
        out = subprocess.run(["sqlite3", self.db, sql], capture_output=True,
                             timeout=30)
        if out.returncode != 0:
            raise AssertionError("sqlite3 failed: %r" % out.stderr)
        return out.stdout.decode()


class Herd:
    """A temporary folder with a topology file and its members."""

    def __init__(self, names=("Alpha",), links=(), extra="", env=None):
        self.env = env or {}
        self.dir = tempfile.mkdtemp(prefix="herd-test-")
        self.ports = {n: free_port() for n in names}
        self.conf = os.path.join(self.dir, "herd.conf")
        self.write_conf(names, links, extra)
        self.members = {n: Member(self, n) for n in names}
        self.conns = []

    def write_conf(self, names, links=(), extra=""):
        lines = ["member %s 127.0.0.1:%d" % (n, self.ports[n]) for n in names]
        lines += ["link %s %s" % l for l in links]
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def __getitem__(self, name):
        return self.members[name]

    @property
    def places_db(self):
        """Where a topology without places_db looks for places."""
        return os.path.join(self.dir, "var", "places.db")

    def import_places(self, rows, *options, db=None):
        """Fill (or update) the places database with rows of
        (id, name, lat, lon, types, vicinity, prominence)."""
        db = db or self.places_db
        os.makedirs(os.path.dirname(db), exist_ok=True)
        return herd_places(*options, "import-csv", db, "-",
                           stdin=places_csv(rows))

    def stop(self):
        statuses = {}
        for m in self.members.values():
            statuses[m.name] = m.stop()
        return statuses

    def secrets(self):
        """The herd key as it could appear in a log (its text, hex and
        escaped forms), if the herd has one: no log may hold it."""
        path = os.path.join(self.dir, "var", "herd.key")
        try:
            with open(path, "rb") as f:
                key = f.read()
        except OSError:
            return []
        esc = "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x5c
                      else "\\x%02x" % b for b in key)
        return [key.hex(), esc] + ([key.decode()] if key.isascii() and
                                   key.decode().isprintable() else [])

    def logs(self):
        return "\n".join("--- %s ---\n%s" % (m.name, m.log())
                         for m in self.members.values())

    def cleanup(self):
        for c in self.conns:
            c.close()
        for m in self.members.values():
            m.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def herd_places(*args, stdin=None, check=True):
    """Run herd-places with args; returns the CompletedProcess (stdout and
    stderr as text).  check: fail the test unless it exits 0."""
    out = subprocess.run([PLACES, *args], input=stdin, capture_output=True,
                         text=True, timeout=120)
    if check and out.returncode != 0:
        raise AssertionError("herd-places %s: exit %d\n%s" % (
            " ".join(args), out.returncode, out.stderr))
    return out


def places_csv(rows, header="id,name,lat,lon,types,vicinity,prominence"):
    """CSV text of a header and rows (tuples), quoted where needed."""
    import csv
    import io
    f = io.StringIO()
    f.write(header + "\n")
    w = csv.writer(f, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    return f.getvalue()


class FakePlaces:
    """tests/fake_places.py, the stand-in for Google's Places APIs."""

    def __init__(self, key):
        self.proc = subprocess.Popen(
            [sys.executable, FAKE_PLACES, "--key", key],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())
        self.base = "http://127.0.0.1:%d" % self.port

    @property
    def new_url(self):
        return self.base + "/v1/places:searchNearby"

    @property
    def legacy_url(self):
        return self.base + "/maps/api/place/nearbysearch/json"

    def _get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.load(r)

    def mode(self, **mode):
        """Replace the fake's mode: delay=, fail=, garbage=1, ..."""
        q = urllib.parse.urlencode(mode)
        return self._get("/_fake/mode?" + q)

    def stats(self):
        return self._get("/_fake/stats")

    def stop(self):
        """Stop the fake; stopping it again does nothing."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()


class Conn:
    """A client connection with line and reply helpers."""

    def __init__(self, addr, timeout=10):
        self.sock = socket.create_connection(addr, timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def shutdown(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the member")
        self.buf += data

    def read_line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def read_whatsat(self):
        """An AT line, then JSON up to and including the empty line."""
        while b"\n\n" not in self.buf:
            self._fill()
        reply, self.buf = self.buf.split(b"\n\n", 1)
        return reply + b"\n\n"

    def read_available(self, wait=0.3):
        """Whatever arrives within wait seconds, and what was buffered."""
        self.sock.settimeout(wait)
        try:
            while True:
                self._fill()
        except (socket.timeout, EOFError):
            pass
        finally:
            self.sock.settimeout(10)
        data, self.buf = self.buf, b""
        return data

    def read_all(self):
        while True:
            try:
                self._fill()
            except EOFError:
                break
        data, self.buf = self.buf, b""
        return data

    def closed(self, timeout=5):
        """True when the member closes the connection with nothing sent."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return data == b""

    def close(self):
        self.sock.close()


class HerdTestCase(unittest.TestCase):
    """Starts a herd per test; on failure prints the members' logs; after
    every test checks that each member stopped cleanly."""

    names = ("Alpha",)
    links = ()
    extra = ""
    env = None
    args = ()           # herd-server options, such as ("-v",)
    start = True

    def setUp(self):
        self.herd = Herd(self.names, self.links, self.extra, self.env)
        self.addCleanup(self.herd.cleanup)
        if self.start:
            for m in self.herd.members.values():
                m.start(args=self.args)

    def _failed(self):
        result = self._outcome.result
        return any(t is self for t, _ in result.failures + result.errors)

    def tearDown(self):
        statuses = self.herd.stop()
        if self._failed():
            sys.stderr.write("\n" + self.herd.logs() + "\n")
            return
        secrets = self.herd.secrets()
        for name, status in statuses.items():
            m = self.herd[name]
            report = sanitizer_report(m.log())
            self.assertIsNone(report, "%s: %s" % (name, report))
            for secret in secrets:
                self.assertNotIn(secret, m.log(), "%s logged the herd key"
                                 % name)
            if status is not None:
                self.assertEqual(status, 0, "%s exit status\n%s" %
                                 (name, m.log()))


def alive(pid):
    """True while pid runs (a zombie has stopped running)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for(pred, timeout=60, what="condition", interval=0.05):
    """Poll pred until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" %
                                 (timeout, what))
        time.sleep(interval)


# A member's locations, as the tests compare them across members.
ROWS = ("select client_id, server_id, time_diff, location, client_time "
        "from locations order by client_id")


class SupervisedHerd(Herd):
    """A herd run by herd-supervisor and driven with herdctl.

    With fake=True, the supervisor runs tests/fake_member.py instead of
    herd-server (found through HERD_BINDIR), whose behaviour a test sets
    per member with mode()."""

    def __init__(self, names=("Alpha",), links=(), extra="", fake=False):
        super().__init__(names, links, extra)
        self.run_dirs = {os.path.join(self.dir, "var", "run")}
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("HERD_PLACES_KEY", "NOTIFY_SOCKET",
                                 "HERD_CONF", "HERD_BINDIR")}
        if fake:
            bindir = os.path.join(self.dir, "bin")
            os.mkdir(bindir)
            os.symlink(SUPERVISOR, os.path.join(bindir, "herd-supervisor"))
            server = os.path.join(bindir, "herd-server")
            with open(server, "w") as f:
                f.write("#!/bin/sh\nexec %s %s \"$@\"\n" %
                        (sys.executable, FAKE_MEMBER))
            os.chmod(server, 0o755)
            self.env["HERD_BINDIR"] = bindir

    def mode(self, name, mode):
        """What fake member name does at its next start."""
        with open(os.path.join(self.dir, name + ".mode"), "w") as f:
            f.write(mode + "\n")

    def ctl(self, *args, timeout=120, check=None, netns=None):
        """Run herdctl -c herd.conf ARGS; check=N asserts the status;
        netns runs it (and so the supervisor it starts) in that network
        namespace, through ip netns exec."""
        wrap = ["ip", "netns", "exec", netns] if netns else []
        out = subprocess.run([*wrap, HERDCTL, "-c", self.conf, *args],
                             capture_output=True, text=True,
                             timeout=timeout, env=self.env,
                             stdin=subprocess.DEVNULL)
        for i, a in enumerate(args):
            if a == "-r" and i + 1 < len(args):
                self.run_dirs.add(os.path.abspath(args[i + 1]))
        if check is not None and out.returncode != check:
            raise AssertionError("herdctl %s: status %d, not %d\n%s%s" % (
                " ".join(args), out.returncode, check, out.stdout,
                out.stderr))
        return out

    def status(self, *names, run_dir=None):
        """(exit status, {name: {state, pid, ...}}) from herdctl status."""
        extra = ("-r", run_dir) if run_dir else ()
        out = self.ctl(*extra, "status", *names)
        members = {}
        lines = out.stdout.splitlines()
        if lines:
            assert lines[0].split()[:6] == ["NAME", "STATE", "PID",
                                            "UPTIME", "RESTARTS",
                                            "ADDRESS"], lines[0]
        for line in lines[1:]:
            w = line.split(None, 6)
            members[w[0]] = dict(state=w[1], pid=w[2], uptime=w[3],
                                 restarts=w[4], address=w[5],
                                 info=w[6] if len(w) > 6 else "")
        return out.returncode, members

    def wait_state(self, name, states, timeout=60, run_dir=None):
        """Wait until member name is in one of states; its status."""
        if isinstance(states, str):
            states = (states,)

        def check():
            m = self.status(run_dir=run_dir)[1].get(name)
            return m if m and m["state"] in states else None
        return wait_for(check, timeout, "%s in %s" % (name, states))

    def supervisor_pid(self, run_dir=None):
        """The live supervisor's pid for run_dir, or None."""
        path = os.path.join(run_dir or os.path.join(self.dir, "var", "run"),
                            "supervisor.lock")
        try:
            with open(path) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None
        return pid if pid and alive(pid) else None

    def log(self, name="supervisor"):
        path = os.path.join(self.dir, "var", "log", name + ".log")
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def processes(self):
        """Pids of live processes that run a member of this herd."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if self.conf.encode() in argv and not any(
                    a.endswith(b"herd-supervisor") or
                    a.endswith(b"herdctl") for a in argv[:1]):
                if alive(int(d)):
                    pids.append(int(d))
        return pids

    def logs(self):
        out = []
        logdir = os.path.join(self.dir, "var", "log")
        for f in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else ():
            with open(os.path.join(logdir, f), "rb") as fh:
                text = fh.read()[-20000:].decode("utf-8", "replace")
            out.append("--- %s ---\n%s" % (f, text))
        return "\n".join(out)

    def cleanup(self):
        for run_dir in self.run_dirs:
            pid = self.supervisor_pid(run_dir)
            if pid:
                os.kill(pid, signal.SIGKILL)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        super().cleanup()


class SupervisorTestCase(unittest.TestCase):
    """A herd under herd-supervisor per test.  After each test the herd is
    stopped with herdctl, no member process may be left, and no log may
    hold a sanitizer report; on failure the gathered logs are printed."""

    names = ("Alpha",)
    links = ()
    extra = ""
    fake = False

    def setUp(self):
        self.herd = SupervisedHerd(self.names, self.links, self.extra,
                                   self.fake)
        self.addCleanup(self.herd.cleanup)

    def _failed(self):
        result = self._outcome.result
        return any(t is self for t, _ in result.failures + result.errors)

    def tearDown(self):
        if self._failed():
            sys.stderr.write("\n" + self.herd.logs() + "\n")
            return
        for run_dir in self.herd.run_dirs:
            if self.herd.supervisor_pid(run_dir):
                self.herd.ctl("-r", run_dir, "stop", check=0)
        wait_for(lambda: not self.herd.processes(), 30, "no member left")
        for run_dir in self.herd.run_dirs:
            wait_for(lambda: not self.herd.supervisor_pid(run_dir), 30,
                     "the supervisor to exit")
        report = sanitizer_report(self.herd.logs())
        self.assertIsNone(report, report)


def main():
    unittest.main(verbosity=2)
