#!/usr/bin/env python3
"""bench_places: the local Places provider, measured on this machine.

Runs one herd-server (from HERD_BUILDDIR, default the source tree) with
places_provider local on a free port in a temporary folder, and prints:

  import      herd-places import-csv of a generated CSV of --places places,
              uniform over the sphere, prominence heavy-tailed
  search      p50/p99/max of one search (the time the member logs for it,
              R*Tree to ranked JSON) and of a WHATSAT round trip from one
              client, at --queries random points and radii (0, 50] km
  throughput  WHATSAT/s from --clients clients with --window in flight each
  dense       the worst case: --dense places inside one 50 km circle, so a
              search reads and ranks all of them; meanwhile another
              client's IAMAT round trips show whether the member stalls

Not part of make check: timings belong in benchmarks, not in tests.  Use a
release build (./configure without --enable-debug and --enable-asan).

    python3 tests/bench/bench_places.py [--places 1000000] [--queries 2000]
"""

import argparse
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from herdtest import PLACES, Herd  # noqa: E402


def random_point(rng):
    """Uniform on the sphere."""
    return (math.degrees(math.asin(2 * rng.random() - 1)),
            rng.uniform(-180, 180))


def write_csv(path, n, rng, centre=None, spread_km=None):
    with open(path, "w") as f:
        f.write("id,name,lat,lon,types,vicinity,prominence\n")
        for i in range(n):
            if centre is None:
                la, lo = random_point(rng)
            else:
                # Uniform in a disc of spread_km around centre.
                d = spread_km * math.sqrt(rng.random()) / 111.195
                th = rng.uniform(0, 2 * math.pi)
                la = centre[0] + d * math.cos(th)
                lo = centre[1] + d * math.sin(th) / math.cos(
                    math.radians(centre[0]))
            prom = int(rng.paretovariate(1.2) * 100)
            f.write("p%d,Place %d,%.6f,%.6f,point_of_interest,,%d\n" %
                    (i, i, la, lo, prom))


def build(herd, n, rng, **kw):
    csv = os.path.join(herd.dir, "places.csv")
    write_csv(csv, n, rng, **kw)
    os.makedirs(os.path.dirname(herd.places_db), exist_ok=True)
    start = time.perf_counter()
    subprocess.run([PLACES, "-q", "import-csv", herd.places_db, csv],
                   check=True)
    elapsed = time.perf_counter() - start
    os.unlink(csv)
    return elapsed


def iso6709(la, lo):
    return b"%+.6f%+.6f" % (la, lo)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def read_whatsat(f):
    f.readline()                        # AT line
    while f.readline() not in (b"\n", b""):
        pass


class Replies:
    """Counts complete WHATSAT replies (each ends with "}\\n\\n") on a
    socket, reading in large chunks so that the client is not the
    bottleneck."""

    def __init__(self, sock):
        self.sock = sock
        self.tail = b""
        self.ahead = 0          # replies read past the last wait

    def wait(self, n):
        n -= self.ahead
        while n > 0:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError
            data = self.tail + data
            n -= data.count(b"}\n\n")
            self.tail = data[-2:]
        self.ahead = -n


def searches(m, queries, rng, fixed=None, tag=b"q"):
    """Sequential WHATSATs from one client: round trips in ms, and the
    search times the member logged for them."""
    s = socket.create_connection(("127.0.0.1", m.port))
    f = s.makefile("rb")
    before = len(re.findall(r"local, \w+, .* in ([\d.]+) ms", m.log()))
    rtt = []
    for i in range(queries):
        la, lo = fixed or random_point(rng)
        s.sendall(b"IAMAT %s%d %s %d\n" % (tag, i, iso6709(la, lo), i + 1))
        f.readline()
        radius = 50 if fixed else rng.uniform(0.1, 50)
        t = time.perf_counter()
        s.sendall(b"WHATSAT %s%d %.3f 20\n" % (tag, i, radius))
        read_whatsat(f)
        rtt.append((time.perf_counter() - t) * 1e3)
    s.close()
    logged = [float(x) for x in re.findall(
        r"local, \w+, .* in ([\d.]+) ms", m.log())][before:]
    return rtt, logged


def throughput(m, clients, window, per_client, rng):
    points = [random_point(rng) for _ in range(clients)]
    socks = [socket.create_connection(("127.0.0.1", m.port))
             for _ in range(clients)]
    for k, s in enumerate(socks):
        s.sendall(b"IAMAT t%d %s 1\n" % (k, iso6709(*points[k])))
        s.recv(4096)
    replies = [Replies(s) for s in socks]
    start = time.perf_counter()
    sent = [0] * clients
    got = [0] * clients
    for k, s in enumerate(socks):
        s.sendall(b"WHATSAT t%d 25 20\n" % k * window)
        sent[k] = window
    # Keep `window` in flight: refill by halves, as they come back.
    while min(got) < per_client:
        for k, r in enumerate(replies):
            if got[k] >= per_client:
                continue
            n = min(window // 2, sent[k] - got[k])
            r.wait(n)
            got[k] += n
            more = min(window // 2, per_client - sent[k])
            if more > 0:
                socks[k].sendall(b"WHATSAT t%d 25 20\n" % k * more)
                sent[k] += more
    elapsed = time.perf_counter() - start
    for s in socks:
        s.close()
    return clients * per_client / elapsed


def iamat_during(m, stop):
    """IAMAT round trips (ms) of a client while `stop` is not set."""
    s = socket.create_connection(("127.0.0.1", m.port))
    f = s.makefile("rb")
    rtt, i = [], 0
    while not stop.is_set():
        i += 1
        t = time.perf_counter()
        s.sendall(b"IAMAT side +1+1 %d\n" % i)
        f.readline()
        rtt.append((time.perf_counter() - t) * 1e3)
        time.sleep(0.002)
    s.close()
    return rtt


def show(name, xs):
    print("  %-28s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (n=%d)" %
          (name, percentile(xs, 50), percentile(xs, 99), max(xs), len(xs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--places", type=int, default=1000000)
    ap.add_argument("--dense", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--per-client", type=int, default=300)
    ap.add_argument("--seed", type=int, default=131)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    herd = Herd(("Bench",), extra="places_provider local\n")
    m = herd["Bench"]
    try:
        t = build(herd, args.places, rng)
        print("import: %d places in %.1f s (%.0f places/s), %.0f MB" % (
            args.places, t, args.places / t,
            os.path.getsize(herd.places_db) / 1e6))
        m.start()
        rtt, logged = searches(m, args.queries, rng)
        print("search on %d places, random points, radius (0, 50] km, "
              "bound 20:" % args.places)
        show("search (member's log)", logged)
        show("WHATSAT round trip", rtt)
        tp = throughput(m, args.clients, args.window, args.per_client, rng)
        print("throughput: %.0f WHATSAT/s (%d clients x %d in flight, "
              "radius 25 km)" % (tp, args.clients, args.window))
        m.stop()

        os.unlink(herd.places_db)
        centre = (34.068930, -118.445127)
        build(herd, args.dense, rng, centre=centre, spread_km=50)
        m.start()
        stop = threading.Event()
        side = []
        th = threading.Thread(target=lambda: side.extend(
            iamat_during(m, stop)))
        th.start()
        rtt, logged = searches(m, max(20, args.queries // 50), rng,
                               fixed=centre, tag=b"dense")
        stop.set()
        th.join()
        print("dense: %d places within 50 km, WHATSAT 50 km bound 20 at "
              "the centre:" % args.dense)
        show("search (member's log)", logged)
        show("WHATSAT round trip", rtt)
        show("another client's IAMAT", side)
        m.stop()
    except BaseException:
        sys.stderr.write(m.log()[-3000:])
        raise
    finally:
        herd.cleanup()


if __name__ == "__main__":
    main()
