#!/usr/bin/env python3
"""bench_iamat: what group commit buys, measured on this machine.

Runs one herd-server (from HERD_BUILDDIR, default the source tree) on a
free port in a temporary folder, then:

  sequential  one client, one IAMAT at a time: each reply waits for its
              own commit (one fsync per update)
  concurrent  N clients, each with W IAMATs in flight: updates arriving in
              one loop turn share a commit

and prints updates per second (median of R runs), the ratio, and the mean
number of updates per commit read from the member's debug log.  Not part
of make check: timings belong in benchmarks, not in tests.

    python3 tests/bench/bench_iamat.py [--runs 5] [--clients 32] [--window 16]
"""

import argparse
import os
import re
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from herdtest import Herd  # noqa: E402


def sequential(port, n, tag):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    start = time.perf_counter()
    for i in range(n):
        s.sendall(b"IAMAT s%s-%d +1+1 %d\n" % (tag, i, i))
        f.readline()
    elapsed = time.perf_counter() - start
    s.close()
    return n / elapsed


def concurrent(port, clients, window, per_client, tag):
    socks = [socket.create_connection(("127.0.0.1", port))
             for _ in range(clients)]
    files = [s.makefile("rb") for s in socks]
    start = time.perf_counter()
    sent = [0] * clients
    got = [0] * clients
    # Keep `window` IAMATs in flight on every connection.
    for k, s in enumerate(socks):
        batch = b"".join(b"IAMAT c%s-%d-%d +1+1 %d\n" % (tag, k, i, i)
                         for i in range(window))
        s.sendall(batch)
        sent[k] = window
    while min(got) < per_client:
        for k, f in enumerate(files):
            if got[k] >= per_client:
                continue
            f.readline()
            got[k] += 1
            if sent[k] < per_client:
                i = sent[k]
                socks[k].sendall(b"IAMAT c%s-%d-%d +1+1 %d\n" %
                                 (tag, k, i, i))
                sent[k] += 1
    elapsed = time.perf_counter() - start
    for s in socks:
        s.close()
    return clients * per_client / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sequential", type=int, default=300)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--per-client", type=int, default=200)
    args = ap.parse_args()

    herd = Herd(("Bench",))
    m = herd["Bench"]
    try:
        m.start(args=("-v",))
        seq, con = [], []
        for r in range(args.runs):
            seq.append(sequential(m.port, args.sequential, str(r).encode()))
            con.append(concurrent(m.port, args.clients, args.window,
                                  args.per_client, str(r).encode()))
        commits = [int(x) for x in re.findall(r"committed (\d+) updates",
                                              m.log())]
        m.stop()
    finally:
        herd.cleanup()
    s, c = statistics.median(seq), statistics.median(con)
    print("sequential: median %.0f IAMAT/s over %d runs (%s)" %
          (s, args.runs, ", ".join("%.0f" % x for x in seq)))
    print("concurrent: median %.0f IAMAT/s over %d runs, %d clients x %d "
          "in flight (%s)" % (c, args.runs, args.clients, args.window,
                              ", ".join("%.0f" % x for x in con)))
    print("ratio concurrent/sequential: %.1f" % (c / s))
    if commits:
        print("commits: %d, %.1f updates per commit on average, at most %d"
              % (len(commits), sum(commits) / len(commits), max(commits)))


if __name__ == "__main__":
    main()
