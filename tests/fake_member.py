"""A stand-in for herd-server that tests of herd-supervisor control.

Run as herd-server would be: fake_member.py -c herd.conf NAME.  What it
does comes from the file NAME.mode beside herd.conf (read at each start,
so a test can change it between restarts):

    serve [CODE]    say ready on HERD_READY_FD, exit CODE (0) on SIGTERM
                    (SIGHUP, which a member reloads on, changes nothing)
    ignore-term     say ready, then ignore SIGTERM
    flood N         write N numbered lines fast (stdout and stderr), then
                    serve
    split           write one line in three pieces, then serve
    exit CODE       exit at once with CODE

Like a real member, it answers "ping" on <run_dir>/member-NAME.sock, so
that the supervisor's liveness checks find it alive.
"""

import os
import signal
import socket
import sys
import threading
import time


def ready():
    fd = os.environ.get("HERD_READY_FD")
    if fd is not None:
        os.write(int(fd), b"READY\n")
        os.close(int(fd))


def answer_pings(conf, name):
    """Answer every line on the member's control socket with "ok"."""
    run_dir = "var/run"
    with open(conf) as f:
        for line in f:
            w = line.split("#")[0].split()
            if len(w) == 2 and w[0] == "run_dir":
                run_dir = w[1]
    path = os.path.join(os.path.dirname(conf), run_dir,
                        "member-%s.sock" % name)
    try:
        os.unlink(path)
    except OSError:
        pass
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(16)

    def serve():
        while True:
            c, _ = s.accept()
            with c:
                data = b""
                while b"\n" not in data:
                    more = c.recv(4096)
                    if not more:
                        break
                    data += more
                c.sendall(b"ok\n")
    threading.Thread(target=serve, daemon=True).start()


def main():
    conf, name = sys.argv[2], sys.argv[3]
    try:
        with open(os.path.join(os.path.dirname(conf), name + ".mode")) as f:
            mode = f.read().split()
    except OSError:
        mode = ["serve"]
    err = sys.stderr.buffer
    if mode[0] == "exit":
        err.write(b"error: exiting with %s as told\n" % mode[1].encode())
        err.flush()
        sys.exit(int(mode[1]))
    if mode[0] == "flood":
        n = int(mode[1])
        for i in range(n):
            out = sys.stdout.buffer if i % 10 == 0 else err
            out.write(b"info: line %07d of the flood\n" % i)
        sys.stdout.flush()
        err.flush()
    if mode[0] == "split":
        for piece in (b"info: one line ", b"in three ", b"pieces\n"):
            err.write(piece)
            err.flush()
            time.sleep(0.2)
    # As a member does, SIGHUP reloads (here: nothing) and never stops it.
    signal.signal(signal.SIGHUP, lambda *a: None)
    if mode[0] == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        code = int(mode[1]) if mode[0] == "serve" and len(mode) > 1 else 0
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(code))
    # A real member reads its file again on SIGHUP.
    signal.signal(signal.SIGHUP, lambda *a: (
        err.write(b"notice: reloaded\n"), err.flush()))
    answer_pings(conf, name)
    err.write(b"info: %s serving as a fake\n" % name.encode())
    err.flush()
    ready()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
