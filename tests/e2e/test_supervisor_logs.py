"""herd-supervisor's gathered logs, stop timeout, reload and systemd
notifications, with fake members (tests/fake_member.py) that flood their
logs, ignore SIGTERM or exit as told."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time

from herdtest import (HERDCTL, KIWI, SERVER, STAMP, SUPERVISOR,
                      SupervisorTestCase, alive, free_port, main, wait_for)

FLOOD = 100000


def log_line(name):
    return re.compile(r"^%s %s\[(\d+)\] (.*)$" % (STAMP, re.escape(name)))


class Logs(SupervisorTestCase):
    names = ("Flood", "Quiet")
    fake = True
    extra = "restart_delay_min 0.2\nrestart_delay_max 1\nstop_timeout 1\n"

    def test_flood_is_gathered_whole(self):
        self.herd.mode("Flood", "flood %d" % FLOOD)
        self.herd.ctl("start", check=0)
        pid = self.herd.status()[1]["Flood"]["pid"]
        pat = re.compile(r"^%s Flood\[%s\] info: line (\d{7}) of the "
                         r"flood$" % (STAMP, pid), re.M)

        def gathered():
            n = [int(x) for x in pat.findall(self.herd.log("Flood"))]
            return n if len(n) >= FLOOD else None
        numbers = wait_for(gathered, 120, "%d lines" % FLOOD)
        # All of them, each once, each whole: stdout and stderr are two
        # pipes, so the order holds within each stream.
        self.assertEqual(sorted(numbers), list(range(FLOOD)))
        self.assertEqual([n for n in numbers if n % 10 == 0],
                         list(range(0, FLOOD, 10)))
        self.assertEqual([n for n in numbers if n % 10 != 0],
                         [n for n in range(FLOOD) if n % 10 != 0])
        line = log_line("Flood")
        for text in self.herd.log("Flood").splitlines():
            self.assertRegex(text, r"^%s (Flood|herd-supervisor)\[\d+\] "
                             % STAMP)
        self.assertTrue(all(line.match(t) or "herd-supervisor[" in t
                            for t in self.herd.log("Flood").splitlines()))
        # herdctl logs shows the file; -n the end of it.
        out = self.herd.ctl("logs", "Flood", "-n", "2", check=0)
        self.assertEqual(len(out.stdout.splitlines()), 2)
        self.assertEqual(out.stdout, "".join(
            self.herd.log("Flood").splitlines(True)[-2:]))
        out = self.herd.ctl("logs", "supervisor", check=0)
        self.assertIn("Flood[%s] ready" % pid, out.stdout)

    def test_line_written_in_pieces(self):
        self.herd.mode("Flood", "split")
        self.herd.ctl("start", check=0)
        self.assertRegex(self.herd.log("Flood"), re.compile(
            r"^%s Flood\[\d+\] info: one line in three pieces$" % STAMP,
            re.M))

    def test_logs_follow(self):
        self.herd.ctl("start", check=0)
        p = subprocess.Popen([HERDCTL, "-c", self.herd.conf, "logs",
                              "Quiet", "-f"], stdout=subprocess.PIPE,
                             env=self.herd.env)
        try:
            # The lines of a process started after herdctl began.
            self.herd.ctl("restart", "Quiet", check=0)
            seen = b""
            while seen.count(b"Quiet serving as a fake") < 2:
                chunk = p.stdout.read1(65536)
                self.assertTrue(chunk, "herdctl logs -f ended")
                seen += chunk
        finally:
            p.kill()
            p.wait()
            p.stdout.close()

    def test_rotation(self):
        with open(self.herd.conf, "a") as f:
            f.write("log_max_size 64K\nlog_keep 2\n")
        self.herd.mode("Flood", "flood 20000")
        self.herd.ctl("start", check=0)
        logdir = os.path.join(self.herd.dir, "var", "log")
        flood = ("Flood.log.2", "Flood.log.1", "Flood.log")

        def kept():
            text = ""
            for f in flood:
                try:
                    with open(os.path.join(logdir, f)) as fh:
                        text += fh.read()
                except OSError:
                    pass
            return text
        # Look for the flood's end in every kept file, not just Flood.log:
        # stdout and stderr are two pipes, read as they come, so lines the
        # member wrote to stdout before its last stderr lines can be
        # gathered after them, and enough of them rotate "line 0019999"
        # into Flood.log.1 (how many it takes depends on where the
        # rotations fall, so on the length of the member's pid).  The
        # line after it on stderr says that stderr is all in.
        wait_for(lambda: "Flood serving as a fake" in kept(), 120,
                 "the end of the flood")
        # Stopping the member drains stdout too; then nothing moves the
        # files while they are read.
        self.herd.ctl("stop", "Flood", check=0)
        self.assertRegex(self.herd.log("Flood"), r"Flood\[\d+\] stopped")
        files = sorted(f for f in os.listdir(logdir)
                       if f.startswith("Flood.log"))
        self.assertEqual(files, ["Flood.log", "Flood.log.1", "Flood.log.2"])
        numbers = []
        for f in flood:
            path = os.path.join(logdir, f)
            self.assertLessEqual(os.path.getsize(path), 64 * 1024)
            with open(path) as fh:
                for text in fh:
                    self.assertTrue(text.endswith("\n"))
                    self.assertRegex(text, r"^%s (Flood|herd-supervisor)"
                                     r"\[\d+\] " % STAMP)
                    m = re.search(r"line (\d+) of the flood", text)
                    if m:
                        numbers.append(int(m.group(1)))
        # The oldest lines are gone; what is kept has no gap (stderr's
        # lines, which are nine in ten, come in order).
        err = [n for n in numbers if n % 10]
        self.assertEqual(err[-1], 19999)
        self.assertGreater(err[0], 0)
        self.assertEqual(err, [n for n in range(err[0], 20000) if n % 10])
        # Nor has stdout's, if any is kept: it may have run ahead of
        # stderr by more than the kept files hold.
        out = [n for n in numbers if n % 10 == 0]
        self.assertEqual(out, list(range(out[0], 20000, 10)) if out else [])

    def test_reopen_on_sigusr1(self):
        self.herd.ctl("start", check=0)
        logdir = os.path.join(self.herd.dir, "var", "log")
        os.rename(os.path.join(logdir, "Quiet.log"),
                  os.path.join(logdir, "Quiet.log.old"))
        os.rename(os.path.join(logdir, "supervisor.log"),
                  os.path.join(logdir, "supervisor.log.old"))
        os.kill(self.herd.supervisor_pid(), signal.SIGUSR1)
        wait_for(lambda: "log files reopened" in self.herd.log(), 30,
                 "supervisor.log reopened")
        self.herd.ctl("restart", "Quiet", check=0)
        self.assertIn("Quiet serving as a fake", self.herd.log("Quiet"))
        with open(os.path.join(logdir, "Quiet.log.old")) as f:
            self.assertEqual(f.read().count("Quiet serving as a fake"), 1)

    def test_stop_timeout_when_sigterm_is_ignored(self):
        self.herd.mode("Flood", "ignore-term")
        self.herd.ctl("start", check=0)
        pid = int(self.herd.status()[1]["Flood"]["pid"])
        out = self.herd.ctl("stop", check=0)
        self.assertFalse(alive(pid))
        self.assertRegex(self.herd.log(), r"Flood\[%d\] still running 1s "
                         r"after SIGTERM: SIGKILL" % pid)
        self.assertRegex(self.herd.log(), r"Flood\[%d\] stopped \(signal 9 "
                         % pid)
        self.assertRegex(self.herd.log(), r"Quiet\[\d+\] stopped \(exit 0\)")
        self.assertIn("stopped", out.stdout)

    def test_exit_status_and_fatal(self):
        self.herd.mode("Quiet", "exit 78")
        out = self.herd.ctl("start")
        self.assertEqual(out.returncode, 1)
        log = self.herd.log("Quiet")
        said = re.search(r"Quiet\[\d+\] error: exiting with 78 as told", log)
        noted = re.search(r"herd-supervisor\[\d+\] error: Quiet\[\d+\] "
                          r"exited with status 78", log)
        self.assertTrue(said and noted, log)
        # The member's last words come before the note of its exit.
        self.assertLess(said.start(), noted.start())
        self.herd.mode("Quiet", "serve")
        self.herd.ctl("start", "Quiet", check=0)

    def test_running_member_exits_then_restarts(self):
        self.herd.ctl("start", check=0)
        self.herd.mode("Quiet", "exit 3")
        os.kill(int(self.herd.status()[1]["Quiet"]["pid"]), signal.SIGTERM)
        # It ran, then exited: EXITED, then BACKOFF as each start fails.
        m = self.herd.wait_state("Quiet", ("EXITED", "BACKOFF"))
        self.assertRegex(m["info"], r"last: (exit 0|exit 3)")
        self.assertRegex(m["info"], r"retry in [\d.]+s")
        wait_for(lambda: "failed to start (exit 3" in self.herd.log(), 60,
                 "a failed start")
        self.herd.mode("Quiet", "serve")
        self.herd.wait_state("Quiet", "RUNNING")


class Restarts(SupervisorTestCase):
    """What the supervisor does when a member that was ready exits."""
    names = ("Alpha", "Quiet")
    fake = True
    extra = "restart_delay_min 0.2\nrestart_delay_max 1\nstop_timeout 1\n"

    def test_exit_78_after_ready_is_fatal(self):
        """Status 78 says the configuration is bad, which no restart
        mends, whether the member was starting or had long been ready."""
        self.herd.mode("Quiet", "serve 78")
        self.herd.ctl("start", check=0)
        pid = int(self.herd.status()[1]["Quiet"]["pid"])
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: re.search(r"Quiet\[%d\] exited" % pid,
                                   self.herd.log()), 30, "Quiet's exit")
        m = self.herd.status()[1]["Quiet"]
        self.assertEqual(m["state"], "FATAL", m)
        self.assertIn("herdctl start Quiet", m["info"])
        self.assertRegex(self.herd.log(), r"Quiet\[%d\] exited with status "
                         r"78 \(bad configuration\): FATAL" % pid)
        self.assertEqual(self.herd.status()[1]["Alpha"]["state"], "RUNNING")
        self.assertEqual(len(re.findall(r"Quiet\[\d+\] started",
                                        self.herd.log())), 1)
        self.herd.mode("Quiet", "serve")
        self.herd.ctl("start", "Quiet", check=0)

    def test_delay_starts_over_after_a_long_run(self):
        """Failed starts double the restart delay up to restart_delay_max
        (1 s); once the member has then run for that long, its next
        restart comes after about restart_delay_min (0.2 s) again."""
        self.herd.ctl("start", check=0)
        self.herd.mode("Quiet", "exit 3")
        os.kill(int(self.herd.status()[1]["Quiet"]["pid"]), signal.SIGTERM)
        failed = re.compile(r"Quiet\[\d+\] failed to start \(exit 3 after "
                            r"[\d.]+s\): restart in ([\d.]+)s")
        delays = wait_for(lambda: (lambda d: d if len(d) >= 3 else None)(
            failed.findall(self.herd.log())), 60, "3 failed starts")
        self.assertGreaterEqual(float(delays[2]), 0.8 * 0.8, delays)
        self.herd.mode("Quiet", "serve")
        m = self.herd.wait_state("Quiet", "RUNNING")
        pid = int(m["pid"])
        time.sleep(1.5)         # more than restart_delay_max, ready
        os.kill(pid, signal.SIGTERM)
        exited = re.compile(r"Quiet\[%d\] exited \(exit 0 after [\d.]+s\): "
                            r"restart in ([\d.]+)s" % pid)
        d = wait_for(lambda: exited.findall(self.herd.log()), 30,
                     "Quiet's exit")
        # restart_delay_min give or take a fifth, not the grown delay.
        self.assertLessEqual(float(d[0]), 0.2 * 1.2 + 0.001, d)
        self.herd.wait_state("Quiet", "RUNNING")


class Reload(SupervisorTestCase):
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    fake = True
    extra = "stop_timeout 5\n"

    def write(self, members, links=(), extra="stop_timeout 5\n"):
        for n in members:
            self.herd.ports.setdefault(n, free_port())
        self.herd.write_conf(members, links, extra)

    def pids(self):
        return {n: m["pid"] for n, m in self.herd.status()[1].items()}

    def test_reload(self):
        self.herd.ctl("start", check=0)
        before = self.pids()

        # Only the supervisor's own settings change: nobody restarts.
        self.write(("Alpha", "Beta"), (("Alpha", "Beta"),),
                   "stop_timeout 7 # longer\nlog_keep 3\n")
        self.herd.ctl("reload", check=0)
        self.assertEqual(self.pids(), before)

        # Gamma added with a link to Alpha, Beta removed: Alpha applies
        # its new links live (SIGHUP); Gamma starts; Beta stops.
        self.write(("Alpha", "Gamma"), (("Alpha", "Gamma"),))
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Beta: removed", out.stdout)
        self.assertIn("Gamma: added", out.stdout)
        self.assertIn("Alpha: applied live (member Beta, link Alpha Beta, "
                      "member Gamma, link Alpha Gamma changed)", out.stdout)
        # reload returns once the herd runs the new file.
        after = self.pids()
        self.assertEqual(sorted(after), ["Alpha", "Gamma"])
        self.assertEqual(after["Alpha"], before["Alpha"])
        self.assertFalse(alive(int(before["Beta"])))
        self.assertRegex(self.herd.log(), r"Beta is no longer in")
        wait_for(lambda: "notice: reloaded" in self.herd.log("Alpha"), 30,
                 "Alpha's SIGHUP")

        # A setting that needs a restart: one member at a time, each
        # once the one before runs again, each with its reason.
        self.write(("Alpha", "Gamma"), (("Alpha", "Gamma"),),
                   "stop_timeout 5\nmax_clients 50\n")
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Alpha: restart (max_clients changed)", out.stdout)
        self.assertIn("Gamma: restart (max_clients changed)", out.stdout)
        now = self.pids()
        self.assertNotEqual(now["Alpha"], after["Alpha"])
        self.assertNotEqual(now["Gamma"], after["Gamma"])
        events = re.findall(r"(Alpha|Gamma)(?: restarting: max_clients "
                            r"changed|\[\d+\] (ready))", self.herd.log())
        self.assertEqual(events[-4:], [("Alpha", ""), ("Alpha", "ready"),
                                       ("Gamma", ""), ("Gamma", "ready")])
        self.assertRegex(self.herd.log(), r"reload done")
        after = now

        # A member added without links restarts nobody else.
        self.write(("Alpha", "Gamma", "Delta"), (("Alpha", "Gamma"),),
                   "stop_timeout 5\nmax_clients 50\n")
        os.kill(self.herd.supervisor_pid(), signal.SIGHUP)
        self.herd.wait_state("Delta", "RUNNING")
        now = self.pids()
        self.assertEqual(now["Alpha"], after["Alpha"])
        self.assertEqual(now["Gamma"], after["Gamma"])

        # A bad file keeps the herd as it runs.
        with open(self.herd.conf, "a") as f:
            f.write("frobnicate 1\n")
        out = self.herd.ctl("reload")
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr, r"herd\.conf:\d+: unknown directive "
                         r"'frobnicate'")
        # herdctl still reaches the herd that runs on the old file.
        out = self.herd.ctl("status")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("going on with run_dir", out.stderr)
        os.kill(self.herd.supervisor_pid(), signal.SIGHUP)
        wait_for(lambda: len(re.findall(r"herd\.conf:\d+: unknown "
                                        r"directive 'frobnicate'; the herd "
                                        r"runs on unchanged",
                                        self.herd.log())) == 2, 30,
                 "the SIGHUP's error in the log")
        self.assertEqual(self.pids(), now)
        self.assertEqual(self.herd.status()[0], 0)


    def test_removed_then_added_back_while_stopping(self):
        """Beta, slow to stop, is removed by a reload and added back by
        another before it has stopped: once stopped, it starts again."""
        self.write(("Alpha", "Beta"), (), "stop_timeout 3\n")
        self.herd.mode("Beta", "ignore-term")
        self.herd.ctl("start", check=0)
        old = int(self.pids()["Beta"])
        self.write(("Alpha",), (), "stop_timeout 3\n")
        # SIGHUP: herdctl reload would wait until Beta is gone.
        os.kill(self.herd.supervisor_pid(), signal.SIGHUP)
        self.herd.wait_state("Beta", "STOPPING")
        self.herd.mode("Beta", "serve")
        self.write(("Alpha", "Beta"), (), "stop_timeout 3\n")
        self.herd.ctl("reload", check=0)
        wait_for(lambda: re.search(r"Beta\[%d\] stopped" % old,
                                   self.herd.log()), 30, "the old Beta gone")
        self.assertIn(self.herd.status()[1]["Beta"]["state"],
                      ("STARTING", "RUNNING"))
        # The same member all along: never forgotten and made anew.
        self.assertNotRegex(self.herd.log(), r"Beta (removed|added)")
        m = self.herd.wait_state("Beta", "RUNNING")
        self.assertNotEqual(int(m["pid"]), old)
        self.assertFalse(alive(old))


class Notify(SupervisorTestCase):
    """systemd's Type=notify, with a datagram socket standing in."""
    names = ("Alpha", "Beta")

    def notify_socket(self):
        path = os.path.join(self.herd.dir, "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(60)
        self.addCleanup(s.close)
        return s, path

    @contextlib.contextmanager
    def spawn(self, args, env, stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL):
        """Run args for the with block; whatever still runs after it
        (the block failed) is killed."""
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=stderr, env=env)
        try:
            yield p
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stderr is not None:
                p.stderr.close()

    def test_supervisor_notifies(self):
        s, path = self.notify_socket()
        env = dict(self.herd.env, NOTIFY_SOCKET=path)
        with self.spawn([SUPERVISOR, "-f", "-c", self.herd.conf],
                        env, stderr=subprocess.PIPE) as p:
            msgs = []
            while not any(m.startswith(b"READY=1") for m in msgs):
                msgs.append(s.recv(4096))
            self.assertIn(b"READY=1\nSTATUS=2 of 2 members running", msgs)
            # Ready means the members serve.
            self.assertTrue(self.herd["Alpha"].ask(KIWI + b"\n").startswith(
                b"AT Alpha "))
            self.assertEqual(self.herd.status()[0], 0)
            p.send_signal(signal.SIGTERM)
            while s.recv(4096) != b"STOPPING=1":
                pass
            self.assertEqual(p.wait(60), 0)
            err = p.stderr.read().decode()
            # In the foreground, events go to stderr too (the journal).
            self.assertIn("info: Alpha[", err)
            self.assertIn("info: stopped", err)

    def test_ready_with_a_member_that_cannot_start(self):
        s, path = self.notify_socket()
        env = dict(self.herd.env, NOTIFY_SOCKET=path)
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", self.herd.ports["Beta"]))
        blocker.listen()
        self.addCleanup(blocker.close)
        with self.spawn([SUPERVISOR, "-f", "-c", self.herd.conf], env) as p:
            msg = b""
            while not msg.startswith(b"READY=1"):
                msg = s.recv(4096)
            # Up, and saying that one member does not run.
            self.assertEqual(msg, b"READY=1\nSTATUS=1 of 2 members running")
            self.assertEqual(self.herd.status()[1]["Alpha"]["state"],
                             "RUNNING")
            blocker.close()
            while s.recv(4096) != b"STATUS=2 of 2 members running":
                pass
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0)

    def test_member_feeds_the_watchdog(self):
        # WATCHDOG_USEC asks for WATCHDOG=1 at least that often: the
        # member sends it from its loop at half the interval.
        s, path = self.notify_socket()
        env = dict(self.herd.env, NOTIFY_SOCKET=path,
                   WATCHDOG_USEC="400000")
        with self.spawn([SERVER, "-c", self.herd.conf, "Alpha"],
                        env, stdout=None) as p:
            msgs = [s.recv(4096) for _ in range(5)]
            self.assertEqual(msgs[0], b"READY=1")
            self.assertEqual(msgs[1:], [b"WATCHDOG=1"] * 4)
            # A stopped loop feeds nothing.
            p.send_signal(signal.SIGSTOP)
            s.settimeout(0.2)
            while True:
                try:
                    s.recv(4096)
                except socket.timeout:
                    break
            s.settimeout(1)
            with self.assertRaises(socket.timeout):
                s.recv(4096)
            p.send_signal(signal.SIGCONT)
            s.settimeout(60)
            self.assertEqual(s.recv(4096), b"WATCHDOG=1")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0)

    def test_watchdog_for_another_process(self):
        # WATCHDOG_PID names the process systemd watches: not this one.
        s, path = self.notify_socket()
        env = dict(self.herd.env, NOTIFY_SOCKET=path,
                   WATCHDOG_USEC="100000", WATCHDOG_PID="1")
        with self.spawn([SERVER, "-c", self.herd.conf, "Alpha"],
                        env, stdout=None) as p:
            self.assertEqual(s.recv(4096), b"READY=1")
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(4096)
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0)

    def test_member_notifies(self):
        s, path = self.notify_socket()
        env = dict(self.herd.env, NOTIFY_SOCKET=path)
        env["HERD_READY_FD"] = "999"
        with self.spawn([SERVER, "-c", self.herd.conf, "Alpha"],
                        env, stderr=subprocess.PIPE, stdout=None) as p:
            self.assertEqual(s.recv(4096), b"READY=1")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(60), 0)
            # A descriptor that is not open is reported, not fatal.
            self.assertIn("HERD_READY_FD=999: not an open descriptor",
                          p.stderr.read().decode())


if __name__ == "__main__":
    main()
