#!/usr/bin/env python3
"""bench_catchup: the memory of a member that comes back to a backlog.

A two-member herd under herdctl (from HERD_BUILDDIR, default the source
tree) in a temporary folder on free ports: herdctl stop Beta, N IAMATs
pipelined at Alpha over four connections, herdctl start Beta; prints
Beta's RssAnon two seconds after the start, its peak RssAnon while it
catches up, and the time until its database holds all N.  Stops the herd
and removes the folder.  Not part of make check: the test suite holds
the memory bound (tests/e2e/test_herd.py, SlowPeer) with a smaller
backlog and no timing.

    python3 tests/bench/bench_catchup.py [--updates 1000000] [--plain]

Links run over TLS (the default, peer_tls yes) unless --plain.
"""

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

BUILD = os.environ.get("HERD_BUILDDIR",
                       os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kb(pid, key="RssAnon"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Herd:
    def __init__(self, plain=False):
        self.dir = tempfile.mkdtemp(prefix="bench-catchup-")
        self.ports = {"Alpha": free_port(), "Beta": free_port()}
        self.conf = os.path.join(self.dir, "herd.conf")
        with open(self.conf, "w") as f:
            for name, port in self.ports.items():
                f.write("member %s 127.0.0.1:%d\n" % (name, port))
            f.write("link Alpha Beta\n")
            if plain:
                f.write("peer_tls no\n")
        self.env = dict(os.environ, HERD_BINDIR=os.path.abspath(BUILD))

    def ctl(self, *args):
        return subprocess.run([os.path.join(BUILD, "herdctl"), "-c",
                               self.conf, *args], env=self.env,
                              capture_output=True, text=True, timeout=120,
                              check=False)

    def pid(self, name):
        for line in self.ctl("status").stdout.splitlines()[1:]:
            w = line.split()
            if w and w[0] == name:
                return int(w[2])
        raise SystemExit("%s is not running" % name)

    def count(self, name):
        path = os.path.join(self.dir, "var", "lib", name + ".db")
        try:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True,
                                 timeout=5)
            n = db.execute("select count(*) from locations").fetchone()[0]
            db.close()
            return n
        except sqlite3.Error:
            return -1


def load(port, first, count):
    """count IAMATs pipelined on one connection, every reply read."""
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")

    def reader():
        for _ in range(count):
            if not f.readline():
                raise SystemExit("Alpha closed the connection")
    t = threading.Thread(target=reader)
    t.start()
    for chunk in range(first, first + count, 10000):
        end = min(chunk + 10000, first + count)
        s.sendall(b"".join(b"IAMAT c%d +34.068930-118.445127 5\n" % i
                           for i in range(chunk, end)))
    t.join()
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=1000000)
    ap.add_argument("--plain", action="store_true",
                    help="links in plain TCP (peer_tls no), not TLS")
    args = ap.parse_args()
    n = args.updates // 4 * 4
    herd = Herd(plain=args.plain)
    try:
        herd.ctl("start")
        herd.ctl("stop", "Beta")
        t = time.monotonic()
        threads = [threading.Thread(target=load, args=(herd.ports["Alpha"],
                                                       k * (n // 4), n // 4))
                   for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        print("Alpha took %d IAMATs in %.1f s" % (n, time.monotonic() - t))
        t = time.monotonic()
        herd.ctl("start", "Beta")
        beta = herd.pid("Beta")
        peak, at2, done = 0, None, None
        while time.monotonic() - t < 600 and (done is None or at2 is None):
            r = rss_kb(beta)
            peak = max(peak, r)
            if at2 is None and time.monotonic() - t >= 2:
                at2 = r
            if done is None and herd.count("Beta") >= n:
                done = time.monotonic() - t
            time.sleep(0.05)
        print("Beta: RssAnon %s kB 2 s after its start, peak %d kB; all %d "
              "after %s" % (at2, peak, n, "%.2f s" % done if done else
                            "more than 600 s"))
    finally:
        herd.ctl("stop")
        shutil.rmtree(herd.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
