"""Seeing the herd: metrics, link lag, herdctl status -l and graph, the
live page, and what hostile HTTP requests cost.

The example's herd of five members and six links, run by herd-supervisor
with http_listen on a free port.  The metrics are read as Prometheus
would (and parsed with Debian's python3-prometheus-client when it is
installed); the page is loaded in Debian's chromium, headless, when it is
installed."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from herdtest import (HerdTestCase, SupervisorTestCase, free_port, main,
                      wait_for)

NAMES = ("Goloman", "Hands", "Holiday", "Welsh", "Wilkes")
LINKS = (("Goloman", "Hands"), ("Goloman", "Holiday"),
         ("Goloman", "Wilkes"), ("Hands", "Wilkes"), ("Holiday", "Welsh"),
         ("Holiday", "Wilkes"))
CONTENT_TYPE = "text/plain; version=0.0.4"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def prometheus_parser():
    """Debian's prometheus_client text parser, or None.  A Python other
    than Debian's (a virtualenv, pyenv) is pointed at Debian's packages,
    where python3-prometheus-client puts its pure-Python modules."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
        return text_string_to_metric_families
    except ImportError:
        pass
    if os.path.isdir("/usr/lib/python3/dist-packages"):
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client.parser import \
                text_string_to_metric_families
            return text_string_to_metric_families
        except ImportError:
            pass
        finally:
            sys.path.remove("/usr/lib/python3/dist-packages")
    return None


def samples(text):
    """{(name, frozenset of (label, value)): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(s, name, **labels):
    """The value of one sample, or None."""
    return s.get((name, frozenset(labels.items())))


def http(port, path="/", method="GET", headers=None, timeout=10):
    """(status, headers, body) of one request."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def raw(port, data, timeout=10):
    """Send data, read until the server closes or timeout; the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


class ExampleHerd(SupervisorTestCase):
    """The example's five members under a supervisor with http_listen.  A
    member killed stays down (restart delay 30 s); a stopped peer is
    given up after one second."""

    names = NAMES
    links = LINKS

    def setUp(self):
        self.port = free_port()
        self.extra = ("http_listen 127.0.0.1:%d\nrestart_delay_min 30\n"
                      "restart_delay_max 30\npeer_timeout 1\n" % self.port)
        super().setUp()
        self.herd.ctl("start", check=0)
        self.stopped = []
        self.addCleanup(self.cont)
        # Every link up, as every member sees it.
        wait_for(lambda: all(value(self.scrape(), "herd_link_up",
                                   member=a, peer=b) == 1
                             for a, b in LINKS + tuple((b, a)
                                                       for a, b in LINKS)),
                 30, "every link up")

    def cont(self):
        for pid in self.stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass

    def scrape_text(self):
        status, headers, body = http(self.port, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"].split(";")[:2],
                         CONTENT_TYPE.split(";"))
        return body

    def scrape(self):
        return samples(self.scrape_text())

    def pid(self, name):
        return int(self.herd.status()[1][name]["pid"])

    def iamat(self, name, n, tag):
        """n IAMATs of n new clients at member name."""
        data = b"".join(b"IAMAT %s-%d +34.068930-118.445127 1520023934.%d\n"
                        % (tag.encode(), i, i) for i in range(n))
        replies = self.herd[name].ask(data)
        self.assertEqual(replies.count(b"AT %s " % name.encode()), n)

    def test_metrics_parse(self):
        parse = prometheus_parser()
        if parse is None:
            self.skipTest("python3-prometheus-client is not installed "
                          "(bootstrap installs it as root)")
        self.herd["Hands"].ask(b"WHATSAT nobody 10 5\nIAMAT a +1+1 1\n"
                               b"WHATSAT a 10 0\n")
        text = self.scrape_text()
        fams = {f.name: f for f in parse(text)}
        # The parser names a counter's family without _total.
        for name, kind in (("herd_clients_connected", "gauge"),
                           ("herd_commands", "counter"),
                           ("herd_updates", "counter"),
                           ("herd_commit_seconds", "histogram"),
                           ("herd_whatsat_seconds", "histogram"),
                           ("herd_link_up", "gauge"),
                           ("herd_link_lag_changes", "gauge"),
                           ("herd_link_lag_seconds", "gauge"),
                           ("herd_locations", "gauge"),
                           ("herd_member_up", "gauge"),
                           ("herd_member_restarts", "counter"),
                           ("process_cpu_seconds", "counter"),
                           ("process_resident_memory_bytes", "gauge"),
                           ("process_open_fds", "gauge"),
                           ("process_start_time_seconds", "gauge")):
            self.assertIn(name, fams, text)
            self.assertEqual(fams[name].type, kind, name)
        members = {s.labels.get("member")
                   for f in fams.values() for s in f.samples}
        self.assertEqual(members, set(NAMES) | {None})
        cmds = {s.labels["command"]: s.value
                for s in fams["herd_commands"].samples
                if s.labels.get("member") == "Hands"}
        self.assertEqual(cmds, {"IAMAT": 1, "WHATSAT": 1, "invalid": 1})
        bound0 = [s.value for s in fams["herd_whatsat_seconds"].samples
                  if s.name == "herd_whatsat_seconds_count" and
                  s.labels == {"member": "Hands", "provider": "none"}]
        self.assertEqual(bound0, [1])

    def test_updates_counted(self):
        n = 25
        before = self.scrape()
        self.iamat("Goloman", n, "count")

        def grown(s, name, source):
            return (value(s, "herd_updates_total", member=name,
                          source=source, result="stored") -
                    value(before, "herd_updates_total", member=name,
                          source=source, result="stored"))

        wait_for(lambda: all(grown(self.scrape(), m, "peer") >= n
                             for m in NAMES if m != "Goloman"),
                 30, "every member to store the updates")
        after = self.scrape()
        self.assertEqual(grown(after, "Goloman", "client"), n)
        self.assertEqual(grown(after, "Goloman", "peer"), 0)
        for m in NAMES:
            if m != "Goloman":
                self.assertEqual(grown(after, m, "peer"), n, m)
                self.assertEqual(grown(after, m, "client"), 0, m)
                self.assertEqual(value(after, "herd_locations", member=m),
                                 value(after, "herd_locations",
                                       member="Goloman"))
        self.assertEqual(
            value(after, "herd_commands_total", member="Goloman",
                  command="IAMAT") -
            value(before, "herd_commands_total", member="Goloman",
                  command="IAMAT"), n)
        # Converged and idle: no link lags, whichever way.
        wait_for(lambda: all(v == 0 for (k, _), v in self.scrape().items()
                             if k == "herd_link_lag_changes"),
                 30, "no lag anywhere")

    def link_table(self):
        """{(a, b): (state, lag->, lag<-)} from herdctl status -l."""
        out = self.herd.ctl("status", "-l")
        lines = out.stdout.splitlines()
        i = lines.index("") + 1
        self.assertEqual(lines[i].split(),
                         ["LINK", "STATE", "LAG->", "LAG<-", "SINCE"])
        found = {}
        for line in lines[i + 1:]:
            w = line.split()
            a, b = w[0].split("--")
            found[(a, b)] = (w[1], w[2], w[3])
        self.assertEqual(set(found), set(LINKS))
        return out.returncode, found

    def graph(self):
        out = self.herd.ctl("graph", check=0).stdout
        self.assertTrue(out.startswith("graph herd {"), out)
        if shutil.which("dot"):
            svg = subprocess.run(["dot", "-Tsvg"], input=out,
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(svg.returncode, 0, svg.stderr)
            self.assertIn("<svg", svg.stdout)
        return out

    def test_stopped_peer(self):
        status, found = self.link_table()
        self.assertEqual(status, 0)
        for state, ab, ba in found.values():
            self.assertEqual((state, ab, ba), ("up", "0/0.0s", "0/0.0s"))
        self.assertEqual(len(re.findall(r'^\t"\w+" -- "\w+" \[.*state="up"',
                                        self.graph(), re.M)), 6)

        # Welsh stops: what Holiday takes, Welsh lacks; the link falls.
        welsh = self.pid("Welsh")
        os.kill(welsh, signal.SIGSTOP)
        self.stopped.append(welsh)
        m = 7
        self.iamat("Holiday", m, "stop")
        s = wait_for(lambda: (lambda s: value(s, "herd_link_up",
                                              member="Holiday",
                                              peer="Welsh") == 0 and s)(
            self.scrape()), 30, "Holiday to give the link up")
        self.assertEqual(value(s, "herd_link_lag_changes", member="Holiday",
                               peer="Welsh"), m)
        self.assertGreater(value(s, "herd_link_lag_seconds",
                                 member="Holiday", peer="Welsh"), 0)
        self.assertEqual(value(s, "herd_member_up", member="Welsh"), 0)
        self.assertIsNone(value(s, "herd_locations", member="Welsh"))
        self.assertEqual(value(s, "herd_member_up", member="Holiday"), 1)
        # The others have what Holiday took.
        for other in ("Goloman", "Wilkes"):
            wait_for(lambda: value(self.scrape(), "herd_link_lag_changes",
                                   member="Holiday", peer=other) == 0,
                     30, "Holiday to Holiday's other peers")

        status, found = self.link_table()
        self.assertEqual(status, 0)     # every member is RUNNING
        state, ab, ba = found[("Holiday", "Welsh")]
        self.assertIn(state, ("down", "dialling"))
        self.assertTrue(ab.startswith("%d/" % m), ab)
        self.assertEqual(ba, "?")       # Welsh does not answer
        self.assertRegex(self.graph(), r'"Holiday" -- "Welsh" \[label='
                         r'"Holiday->Welsh %d/[0-9.]+s\\nWelsh->Holiday \?"'
                         r', color="(red|orange)", state="(down|dialling)"'
                         r'\]' % m)

        # Welsh goes on: it catches up, and the link is up without lag.
        os.kill(welsh, signal.SIGCONT)
        self.stopped.remove(welsh)
        wait_for(lambda: (lambda s: value(s, "herd_link_up",
                                          member="Holiday",
                                          peer="Welsh") == 1 and
                          value(s, "herd_link_lag_changes",
                                member="Holiday", peer="Welsh") == 0 and
                          value(s, "herd_link_lag_seconds",
                                member="Holiday", peer="Welsh") == 0 and
                          value(s, "herd_member_up", member="Welsh") == 1)(
            self.scrape()), 30, "the link to recover")
        wait_for(lambda: self.link_table()[1][("Holiday", "Welsh")] ==
                 ("up", "0/0.0s", "0/0.0s"), 30, "status -l to recover")

    def test_members_asked_where_they_run(self):
        """A reload that moves run_dir restarts the members one at a
        time; until its turn, each is asked at its socket in the old
        one, and counts as up."""
        with open(self.herd.conf) as f:
            text = f.read()

        def restore():
            with open(self.herd.conf, "w") as f:
                f.write(text)
        self.addCleanup(restore)
        sup = self.herd.supervisor_pid()
        # Goloman, the first to restart, takes stop_timeout to stop.
        goloman = self.pid("Goloman")
        os.kill(goloman, signal.SIGSTOP)
        self.stopped.append(goloman)
        with open(self.herd.conf, "a") as f:
            f.write("run_dir var/run2\n")
        os.kill(sup, signal.SIGHUP)
        s = wait_for(lambda: (lambda s: value(
            s, "herd_member_state", member="Goloman",
            state="STOPPING") == 1 and s)(self.scrape()), 30,
            "Goloman stopping")
        for name in NAMES[1:]:
            self.assertEqual(value(s, "herd_member_up", member=name), 1,
                             name)

    def test_status_json(self):
        import json
        status, headers, body = http(self.port, "/status.json")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        st = json.loads(body)
        self.assertEqual([m["name"] for m in st["members"]], list(NAMES))
        self.assertTrue(all(m["state"] == "RUNNING" and m["answered"]
                            for m in st["members"]))
        self.assertEqual({(l["a"], l["b"]) for l in st["links"]}, set(LINKS))
        self.assertTrue(all(l["state"] == "up" and
                            l["ab"]["lag_changes"] == 0
                            for l in st["links"]))
        # Status -l with a member not running exits 3, as status does.
        os.kill(self.pid("Wilkes"), signal.SIGKILL)
        self.herd.wait_state("Wilkes", ("EXITED", "BACKOFF"))
        status, found = self.link_table()
        self.assertEqual(status, 3)
        self.assertIn(found[("Hands", "Wilkes")][0], ("down", "dialling"))
        self.assertEqual(found[("Hands", "Wilkes")][2], "?")
        st = json.loads(http(self.port, "/status.json")[2])
        wilkes = [m for m in st["members"] if m["name"] == "Wilkes"][0]
        self.assertEqual((wilkes["pid"], wilkes["answered"]), (None, False))
        self.assertEqual(value(self.scrape(), "herd_member_up",
                               member="Wilkes"), 0)

    def chromium(self, *args):
        exe = shutil.which("chromium")
        if exe is None:
            self.skipTest("chromium is not installed (bootstrap installs "
                          "it as root, as an optional package)")
        profile = tempfile.mkdtemp(prefix="herd-chromium-")
        try:
            out = subprocess.run(
                [exe, "--headless", "--disable-gpu", "--no-sandbox",
                 "--user-data-dir=" + profile, "--virtual-time-budget=2000",
                 *args, "http://127.0.0.1:%d/" % self.port],
                capture_output=True, text=True, timeout=120,
                stdin=subprocess.DEVNULL)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        self.assertEqual(out.returncode, 0, out.stderr[-3000:])
        return out.stdout

    def nodes(self, dom):
        members = dict(re.findall(r'<g class="member[^"]*" data-name="(\w+)" '
                                  r'data-state="(\w+)"', dom))
        links = re.findall(r'<g class="link" data-a="(\w+)" data-b="(\w+)" '
                           r'data-state="(\w+)"', dom)
        return members, links

    def test_page(self):
        dom = self.chromium("--dump-dom")
        members, links = self.nodes(dom)
        self.assertEqual(members, {n: "RUNNING" for n in NAMES}, dom[:3000])
        self.assertEqual(sorted(links), sorted((a, b, "up")
                                               for a, b in LINKS))
        # A member killed shows as not running at the page's next poll.
        os.kill(self.pid("Welsh"), signal.SIGKILL)
        dom = self.chromium("--dump-dom")
        members, links = self.nodes(dom)
        self.assertIn(members["Welsh"], ("EXITED", "BACKOFF"))
        self.assertEqual(len(members), 5)
        self.assertIn(dict(((a, b), s) for a, b, s in links)[
            ("Holiday", "Welsh")], ("down", "dialling"))
        keep = tempfile.mkdtemp(prefix="herd-page-")
        shot = os.path.join(keep, "herd-page.png")
        self.chromium("--screenshot=" + shot, "--window-size=1000,800")
        self.assertTrue(os.path.getsize(shot) > 0)
        sys.stderr.write("\n  screenshot of the page: %s\n" % shot)

    def test_page_without_script(self):
        status, headers, body = http(self.port, "/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'",
                      headers["Content-Security-Policy"])
        # Nothing from elsewhere: no src or href but our own paths.
        self.assertEqual(re.findall(r'(?:src|href)="(?!/)[^"]*"', body), [])
        # The member table is there for a browser without script.
        self.assertEqual(re.findall(r'<tr data-name="(\w+)" '
                                    r'data-state="RUNNING">', body),
                         list(NAMES))

    def test_hostile(self):
        fds = lambda: value(self.scrape(), "process_open_fds")
        before = fds()
        self.assertEqual(http(self.port, "/nope")[0], 404)
        self.assertEqual(http(self.port, "/metrics/x")[0], 404)
        status, headers, _ = http(self.port, "/metrics", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(http(self.port, "/", method="DELETE")[0], 405)
        status, headers, body = http(self.port, "/metrics", method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertRegex(raw(self.port, b"GARBAGE\r\n\r\n"),
                         rb"^HTTP/1\.[01] 4\d\d ")
        self.assertRegex(raw(self.port, b"GET / HTTP/1.1\r\nHost: x\r\n"
                             b"X-Big: " + b"a" * 100000 + b"\r\n\r\n"),
                         rb"^(HTTP/1\.[01] 4\d\d |$)")
        self.assertRegex(raw(self.port, b"GET /metrics HTTP/1.1\r\n"
                             b"Host: x\r\nContent-Length: 100000\r\n\r\n" +
                             b"a" * 100000), rb"^(HTTP/1\.[01] 4\d\d |$)")
        # Slow clients: each gets closed, and others are served meanwhile.
        slow = []
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", self.port), 10)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        self.assertEqual(http(self.port, "/metrics")[0], 200)
        for s in slow:
            s.settimeout(60)
            try:
                rest = s.recv(65536)
            except ConnectionResetError:
                rest = b""
            self.assertRegex(rest, rb"^(HTTP/1\.[01] 4\d\d |$)")
            s.close()
        # A flood of scrapes while a member keeps them waiting (stopped):
        # beyond what the supervisor serves at once, 503 at once.
        welsh = self.pid("Welsh")
        os.kill(welsh, signal.SIGSTOP)
        self.stopped.append(welsh)
        with ThreadPoolExecutor(48) as pool:
            codes = list(pool.map(lambda i: http(self.port, "/metrics" if
                                                 i % 2 else "/status.json",
                                                 timeout=30)[0], range(48)))
        self.assertEqual(set(codes), {200, 503}, codes)
        self.assertGreaterEqual(codes.count(200), 16)
        os.kill(welsh, signal.SIGCONT)
        self.stopped.remove(welsh)
        self.assertEqual(http(self.port, "/metrics")[0], 200)
        # Nothing lasting: the descriptors are back where they were.
        wait_for(lambda: fds() == before, 30, "descriptors to be back")
        self.assertEqual(self.herd.status()[0], 0)


class AddressTaken(SupervisorTestCase):
    """A supervisor that cannot have its http_listen address does not
    start, and says why."""

    names = ("Alpha",)

    def test_http_listen_taken(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            with open(self.herd.conf, "a") as f:
                f.write("http_listen 127.0.0.1:%d\n" % port)
            out = self.herd.ctl("start")
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("127.0.0.1:%d: Address already in use" % port,
                          out.stderr)
            self.assertIsNone(self.herd.supervisor_pid())
            self.assertEqual(self.herd.processes(), [])


class MemberMetrics(HerdTestCase):
    """A member without a supervisor serves its own /metrics on the
    address its metrics_listen line gives."""

    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)

    def setUp(self):
        self.port = free_port()
        self.extra = "metrics_listen Beta 127.0.0.1:%d\n" % self.port
        super().setUp()

    def test_metrics_listen(self):
        self.herd["Alpha"].ask(b"IAMAT a +1+1 1\n")
        s = wait_for(lambda: (lambda s: value(s, "herd_updates_total",
                                              source="peer",
                                              result="stored") == 1 and s)(
            samples(http(self.port, "/metrics")[2])), 30, "Beta to store it")
        self.assertEqual(value(s, "herd_link_up", peer="Alpha"), 1)
        self.assertEqual(value(s, "herd_locations"), 1)
        status, headers, _ = http(self.port, "/metrics")
        self.assertTrue(headers["Content-Type"].startswith(CONTENT_TYPE))
        self.assertEqual(http(self.port, "/")[0], 404)
        self.assertEqual(http(self.port, "/metrics", method="PUT")[0], 405)
        # The same text on the control socket; links there too.
        reply = self.herd["Beta"].admin("metrics", "links")
        self.assertEqual(reply[0][-1], "ok")
        self.assertIn('herd_link_up{peer="Alpha"} 1', reply[0])
        self.assertRegex(reply[1][0], r"^link Alpha up 0 0\.000 "
                         r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(self.herd["Alpha"].admin("links")[0][0][:15],
                         "link Beta up 0 ")

    def test_address_taken(self):
        """A member that cannot have its metrics address says so and
        exits; it does not serve without metrics."""
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            port = free_port()
            s.bind(("127.0.0.1", port))
            s.listen()
            with open(self.herd.conf, "a") as f:
                f.write("metrics_listen Alpha 127.0.0.1:%d\n" % port)
            self.herd["Alpha"].stop()
            self.herd["Alpha"].start(wait=False)
            status = self.herd["Alpha"].wait_exit()
            self.assertEqual(status, 1)
            self.assertIn("127.0.0.1:%d: Address already in use" % port,
                          self.herd["Alpha"].log())


if __name__ == "__main__":
    main()
