"""log_cost: how many bytes of gathered log one IAMAT costs, at each
log_level and with log_client_data yes or no.

Runs a herd of two linked members (Alpha, Beta) under herd-supervisor,
sends N IAMATs to Alpha, each on a connection of its own (as most clients
do) or all on one connection (-p), waits until Beta has them all, and
prints the growth of Alpha.log (the member that took them) and Beta.log
(a peer) divided by N.  Usage, from the build folder:

    PYTHONPATH=tests/e2e HERD_BUILDDIR=. \
        python3 tests/bench/log_cost.py [-p] [N]
"""

import os
import socket
import sys
import time

from herdtest import SupervisedHerd, wait_for


def run(level, client_data, n, pipelined):
    herd = SupervisedHerd(("Alpha", "Beta"), (("Alpha", "Beta"),),
                          "log_level %s\nlog_client_data %s\n" %
                          (level, client_data))
    try:
        herd.ctl("start", check=0)
        beta = herd["Beta"]
        wait_for(lambda: "up" in beta.sqlite("select state from peers"),
                 30, "the link up")
        time.sleep(0.5)
        logs = [os.path.join(herd.dir, "var", "log", m + ".log")
                for m in ("Alpha", "Beta")]
        size0 = [os.path.getsize(p) for p in logs]
        lines = [b"IAMAT client%06d.example.org +34.068930-118.445127 "
                 b"1520023934.%09d\n" % (i, i) for i in range(n)]
        addr = ("127.0.0.1", herd.ports["Alpha"])
        if pipelined:
            c = socket.create_connection(addr)
            c.sendall(b"".join(lines))
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
            c.close()
        else:
            for line in lines:
                c = socket.create_connection(addr)
                c.sendall(line)
                c.shutdown(socket.SHUT_WR)
                while c.recv(65536):
                    pass
                c.close()
        wait_for(lambda: beta.sqlite("select count(*) from locations")
                 .strip() == str(n), 60, "Beta has them all")
        time.sleep(1.5)         # the last lines gathered
        grown = [os.path.getsize(p) - s for p, s in zip(logs, size0)]
        herd.ctl("stop", check=0)
        return [g / n for g in grown]
    finally:
        herd.cleanup()


def main():
    args = sys.argv[1:]
    pipelined = "-p" in args
    args = [a for a in args if a != "-p"]
    n = int(args[0]) if args else 2000
    print("%d IAMATs, %s; bytes of log per IAMAT" %
          (n, "one connection" if pipelined else "a connection each"))
    print("%-8s %-16s %10s %10s" % ("level", "log_client_data", "taker",
                                    "peer"))
    for level in ("debug", "info", "notice", "warning", "error"):
        for data in (("yes", "no") if level in ("debug", "info")
                     else ("yes",)):
            a, b = run(level, data, n, pipelined)
            print("%-8s %-16s %10.1f %10.1f" % (level, data, a, b))


if __name__ == "__main__":
    main()
