"""herd-supervisor and herdctl with real members: start, status, crashes,
stop, the control socket, and what is refused."""

import grp
import os
import re
import select
import signal
import socket
import stat
import subprocess
import time
import unittest

from herdtest import (EXIT_CONFIG, HERDCTL, KIWI, STAMP, SUPERVISOR,
                      SupervisorTestCase, alive, main, others_may_run,
                      sanitizer_report,
                      wait_for)

DELAYS = "restart_delay_min 0.2\nrestart_delay_max 1.6\nstop_timeout 5\n"


class Supervisor(SupervisorTestCase):
    names = ("Alpha", "Beta", "Gamma")
    links = (("Alpha", "Beta"), ("Beta", "Gamma"))
    extra = DELAYS

    def test_start_status_stop(self):
        out = self.herd.ctl("start", check=0)
        self.assertIn("Alpha", out.stdout)
        rc, members = self.herd.status()
        self.assertEqual(rc, 0)
        self.assertEqual(sorted(members), ["Alpha", "Beta", "Gamma"])
        for name, m in members.items():
            self.assertEqual(m["state"], "RUNNING")
            self.assertTrue(alive(int(m["pid"])), name)
            self.assertEqual(m["restarts"], "0")
            self.assertEqual(m["address"],
                             "127.0.0.1:%d" % self.herd.ports[name])
        # Running means serving: a client is answered at once.
        self.assertTrue(self.herd["Beta"].ask(KIWI + b"\n").startswith(
            b"AT Beta "))

        # One member stops; status says so with 3; start brings it back.
        self.herd.ctl("stop", "Beta", check=0)
        rc, members = self.herd.status()
        self.assertEqual(rc, 3)
        self.assertEqual(members["Beta"]["state"], "STOPPED")
        self.assertEqual(members["Beta"]["pid"], "-")
        self.assertEqual(members["Alpha"]["state"], "RUNNING")
        self.assertEqual(self.herd.status("Alpha")[0], 0)
        self.herd.ctl("start", "Beta", check=0)
        self.assertEqual(self.herd.status()[0], 0)

        # restart gives a new process.
        old = self.herd.status()[1]["Gamma"]["pid"]
        self.herd.ctl("restart", "Gamma", check=0)
        new = self.herd.status()[1]["Gamma"]
        self.assertEqual(new["state"], "RUNNING")
        self.assertNotEqual(new["pid"], old)

        pids = [int(m["pid"]) for m in self.herd.status()[1].values()]
        out = self.herd.ctl("stop", check=0)
        for pid in pids:
            self.assertFalse(alive(pid))
        self.assertEqual(self.herd.status()[0], 4)
        self.assertEqual(self.herd.processes(), [])

        log = self.herd.log()
        for event in (r"started for", r"Alpha\[\d+\] started",
                      r"Alpha\[\d+\] ready after", r"Beta\[\d+\] stopping",
                      r"Beta\[\d+\] stopped \(exit 0\)",
                      r"stopping the herd", r"\] info: stopped$"):
            self.assertRegex(log, re.compile(event, re.M))
        # Every line of every log has a time and who wrote it.
        for name in ("supervisor", "Alpha", "Beta", "Gamma"):
            lines = self.herd.log(name).splitlines()
            self.assertTrue(lines, name)
            for line in lines:
                self.assertRegex(line, r"^%s (herd-supervisor|%s)\[\d+\] "
                                 r"(info|notice|warning|error|debug): " %
                                 (STAMP, name))
        # A member's log holds its own lines and the supervisor's events.
        self.assertRegex(self.herd.log("Beta"),
                         r"Beta\[\d+\] notice: member Beta listening on")
        self.assertRegex(self.herd.log("Beta"),
                         r"herd-supervisor\[\d+\] info: Beta\[\d+\] "
                         r"stopping")

    def test_crash_restarts_with_data(self):
        self.herd.ctl("start", check=0)
        self.assertTrue(self.herd["Alpha"].ask(KIWI + b"\n").startswith(
            b"AT Alpha "))
        old = int(self.herd.status()[1]["Alpha"]["pid"])
        os.kill(old, signal.SIGKILL)
        m = wait_for(lambda: (lambda m: m if m["state"] == "RUNNING" and
                              m["pid"] != str(old) else None)(
            self.herd.status()[1]["Alpha"]), 60, "Alpha back")
        self.assertEqual(m["restarts"], "1")
        self.assertIn("signal 9", m["info"])
        self.assertRegex(self.herd.log("Alpha"),
                         r"Alpha\[%d\] exited \(signal 9 \(Killed\)" % old)
        # The update it acknowledged before the crash is still there.
        self.assertIn("kiwi.cs.ucla.edu|Alpha\n",
                      self.herd["Alpha"].sqlite(
                          "select client_id, server_id from locations"))
        self.assertTrue(self.herd["Alpha"].ask(KIWI + b"\n").startswith(
            b"AT Alpha "))
        self.assertEqual(self.herd.status()[0], 0)

    def test_backoff_grows_then_recovers(self):
        # Hold Beta's port: Beta exits 1 (a restart may cure it) each time.
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", self.herd.ports["Beta"]))
        blocker.listen()
        try:
            out = self.herd.ctl("-w", "2", "start")
            self.assertEqual(out.returncode, 1)
            pattern = re.compile(r"^(%s) herd-supervisor\[\d+\] warning: "
                                 r"Beta\[\d+\] failed to start \(exit 1 "
                                 r"after [\d.]+s\): restart in ([\d.]+)s$" %
                                 STAMP, re.M)
            delays = wait_for(lambda: (lambda d: d if len(d) >= 5 else None)(
                pattern.findall(self.herd.log())), 60, "5 failed starts")
            got = [float(d) for _, d in delays[:5]]
            # 0.2 doubling to 1.6, each give or take a fifth.
            for d, want in zip(got, (0.2, 0.4, 0.8, 1.6, 1.6)):
                self.assertGreaterEqual(d, want * 0.8 - 0.001, got)
                self.assertLessEqual(d, want * 1.2 + 0.001, got)
            rc, members = self.herd.status()
            self.assertEqual(rc, 3)
            self.assertIn(members["Beta"]["state"], ("BACKOFF", "STARTING"))
            self.assertEqual(members["Alpha"]["state"], "RUNNING")
            self.assertIn("Address already in use", self.herd.log("Beta"))
        finally:
            blocker.close()
        self.herd.wait_state("Beta", "RUNNING")
        self.assertEqual(self.herd.ctl("start", check=0).returncode, 0)

    def test_exit_78_is_fatal_until_started(self):
        # A database from a newer herd-server: Beta refuses it with 78.
        os.makedirs(os.path.dirname(self.herd["Beta"].db), exist_ok=True)
        subprocess.run(["sqlite3", self.herd["Beta"].db,
                        "pragma user_version = 999"], check=True)
        out = self.herd.ctl("start")
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stdout, r"Beta +FATAL")
        rc, members = self.herd.status()
        self.assertEqual(rc, 3)
        self.assertEqual(members["Beta"]["state"], "FATAL")
        self.assertEqual(members["Beta"]["pid"], "-")
        self.assertIn("herdctl start Beta", members["Beta"]["info"])
        self.assertEqual(members["Alpha"]["state"], "RUNNING")
        self.assertRegex(self.herd.log(), r"Beta\[\d+\] exited with status "
                         r"78 \(bad configuration\): FATAL")
        # Not retried: after several restart delays, still one start.
        self.herd.ctl("restart", "Alpha", check=0)
        self.herd.ctl("restart", "Alpha", check=0)
        self.assertEqual(len(re.findall(r"Beta\[\d+\] started",
                                        self.herd.log())), 1)
        self.assertEqual(self.herd.status()[1]["Beta"]["state"], "FATAL")
        # Mended, then started by hand.
        os.unlink(self.herd["Beta"].db)
        self.herd.ctl("start", "Beta", check=0)
        self.assertEqual(self.herd.status()[0], 0)

    def test_short_key_fatal_until_genkey(self):
        """An operator's word as the herd key: every member (all have
        links) stops FATAL, its log says how to make a key, and one made
        with herdctl genkey brings the herd up."""
        key = os.path.join(self.herd.dir, "var", "herd.key")
        os.makedirs(os.path.dirname(key), exist_ok=True)
        with open(key, "w") as f:
            f.write("secret\n")
        os.chmod(key, 0o600)
        out = self.herd.ctl("start")
        self.assertEqual(out.returncode, 1)
        rc, members = self.herd.status()
        self.assertEqual(rc, 3)
        self.assertEqual({n: m["state"] for n, m in members.items()},
                         dict.fromkeys(self.names, "FATAL"))
        log = self.herd.ctl("logs", "Alpha", check=0).stdout
        self.assertIn(key + ": a herd key must hold 32 to 4096 bytes, not "
                      "7; make a good one with \"herdctl genkey FILE\"",
                      log)
        os.unlink(key)
        self.herd.ctl("genkey", key, check=0)
        self.herd.ctl("start", check=0)
        self.assertEqual(self.herd.status()[0], 0)

    def test_supervisor_killed_leaves_no_member(self):
        self.herd.ctl("start", check=0)
        pids = [int(m["pid"]) for m in self.herd.status()[1].values()]
        sup = self.herd.supervisor_pid()
        self.assertTrue(sup)
        os.kill(sup, signal.SIGKILL)
        wait_for(lambda: not any(alive(p) for p in pids), 30,
                 "members to die with the supervisor")
        self.assertEqual(self.herd.processes(), [])
        out = self.herd.ctl("status")
        self.assertEqual(out.returncode, 4)
        self.assertIn("no supervisor", out.stderr)
        # The socket it left behind is replaced by the next supervisor.
        self.assertTrue(os.path.exists(os.path.join(
            self.herd.dir, "var", "run", "herd.sock")))
        self.herd.ctl("start", check=0)
        self.assertEqual(self.herd.status()[0], 0)

    def test_second_supervisor_refused(self):
        self.herd.ctl("start", check=0)
        sup = self.herd.supervisor_pid()
        out = subprocess.run([SUPERVISOR, "-c", self.herd.conf],
                             capture_output=True, text=True, timeout=60,
                             env=self.herd.env)
        self.assertEqual(out.returncode, 1)
        self.assertIn("another herd-supervisor (pid %d) runs for" % sup,
                      out.stderr)
        self.assertIsNone(sanitizer_report(out.stderr))
        out = subprocess.run([SUPERVISOR, "-f", "-c", self.herd.conf],
                             capture_output=True, text=True, timeout=60,
                             env=self.herd.env)
        self.assertEqual(out.returncode, 1)
        self.assertIn("another herd-supervisor", out.stderr)
        self.assertIsNone(sanitizer_report(out.stderr))
        self.assertEqual(self.herd.supervisor_pid(), sup)
        self.assertEqual(self.herd.status()[0], 0)

    def test_no_descriptor_inherited(self):
        # A script that waits for herdctl's output must see EOF once
        # herdctl exits: the supervisor keeps none of its descriptors.
        r, w = os.pipe()
        pipe = "pipe:[%d]" % os.fstat(w).st_ino
        try:
            p = subprocess.run([HERDCTL, "-c", self.herd.conf, "start"],
                               stdin=subprocess.DEVNULL, stdout=w,
                               stderr=w, pass_fds=(w,), env=self.herd.env,
                               timeout=120)
            os.close(w)
            w = None
            self.assertEqual(p.returncode, 0)
            data = b""
            while True:
                ready, _, _ = select.select([r], [], [], 30)
                self.assertTrue(ready, "no EOF: someone holds the pipe")
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                data += chunk
            self.assertIn(b"RUNNING", data)
        finally:
            os.close(r)
            if w is not None:
                os.close(w)
        for pid in self.herd.processes():
            d = "/proc/%d/fd" % pid
            held = []
            for fd in os.listdir(d):
                try:
                    held.append(os.readlink(os.path.join(d, fd)))
                except OSError:
                    pass        # closed meanwhile
            self.assertNotIn(pipe, held, "herdctl's pipe stays open")

    def test_two_starts_at_once(self):
        procs = [subprocess.Popen([HERDCTL, "-c", self.herd.conf, "start"],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.herd.env)
                 for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn(b"RUNNING", out)
        rc, members = self.herd.status()
        self.assertEqual(rc, 0)
        self.assertEqual(len(self.herd.processes()), len(members))

    def test_control_socket(self):
        self.herd.ctl("start", check=0)
        path = os.path.join(self.herd.dir, "var", "run", "herd.sock")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(path)
            f = s.makefile("rwb")
            for req, want in ((b"bogus\n", b"error unknown command 'bogus'"),
                              (b"status Nobody\n",
                               b"error no member 'Nobody' here"),
                              (b"reload now\n",
                               b"error wrong number of arguments to "
                               b"reload")):
                f.write(req)
                f.flush()
                self.assertEqual(f.readline().rstrip(b"\n"), want)
            f.write(b"status Alpha\n")
            f.flush()
            self.assertRegex(f.readline(), rb"^supervisor \d+ ")
            self.assertRegex(f.readline(), rb"^member Alpha RUNNING \d+ "
                             rb"[\d.]+ 0 127\.0\.0\.1:\d+ -\n$")
            self.assertEqual(f.readline(), b"ok\n")
        # A line without end, too long, closes the connection.
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(path)
            s.sendall(b"x" * 10000)
            try:
                self.assertEqual(s.recv(100), b"")
            except ConnectionResetError:
                pass
        # So does a client that asks and never reads the answers.
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(60)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(path)
            try:
                for _ in range(100000):
                    s.sendall(b"status\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            else:
                self.fail("the supervisor kept a client that never reads")
        self.assertEqual(self.herd.status()[0], 0)


class Load:
    """IAMATs to one member from a thread, one connection each, until
    stopped; acked holds the client ids it acknowledged."""

    def __init__(self, member, prefix):
        import threading
        self.member, self.prefix = member, prefix
        self.acked, self.answered_during = [], 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            i += 1
            cid = "%s%d" % (self.prefix, i)
            line = "IAMAT %s +34.068930-118.445127 %d.5\n" % (cid, 1000 + i)
            try:
                c = socket.create_connection(
                    ("127.0.0.1", self.member.port), 1)
                c.settimeout(1)
                c.sendall(line.encode())
                reply = b""
                while not reply.endswith(b"\n"):
                    data = c.recv(4096)
                    if not data:
                        break
                    reply += data
                c.close()
            except OSError:
                continue
            if reply.startswith(b"AT "):
                self.acked.append(cid)

    def stop(self):
        self.stopping.set()
        self.thread.join(30)


class Liveness(SupervisorTestCase):
    """A member that stops answering is noticed and restarted."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    extra = ("liveness_timeout 3\nstop_timeout 2\nrestart_delay_min 0.1\n")

    def test_stopped_member_is_restarted(self):
        self.herd.ctl("start", check=0)
        old = int(self.herd.status()[1]["Alpha"]["pid"])
        load = Load(self.herd["Alpha"], "live")
        self.addCleanup(load.stop)
        wait_for(lambda: len(load.acked) > 20, 30, "updates acknowledged")
        os.kill(old, signal.SIGSTOP)
        self.addCleanup(lambda: alive(old) and os.kill(old, signal.SIGKILL))
        # Shown as not healthy (status exits 3) before the restart ...
        m = self.herd.wait_state("Alpha", "UNHEALTHY", 30)
        self.assertIn("not healthy", m["info"])
        self.assertEqual(self.herd.status()[0], 3)
        # ... then restarted, and serving again.
        m = wait_for(lambda: (lambda m: m if m["state"] == "RUNNING" and
                              m["pid"] != str(old) else None)(
            self.herd.status()[1]["Alpha"]), 60, "Alpha restarted")
        self.assertEqual(m["restarts"], "1")
        self.assertFalse(alive(old))
        n = len(load.acked)
        wait_for(lambda: len(load.acked) > n + 5, 30, "updates after")
        load.stop()
        self.assertEqual(self.herd.status()[0], 0)
        log = self.herd.log("Alpha")
        self.assertRegex(log, r"warning: Alpha\[%d\] has not answered on "
                         r"its control socket for [\d.]+s: not healthy" % old)
        self.assertRegex(log, r"notice: Alpha restarting: not healthy "
                         r"\(no answer for [\d.]+s, liveness_timeout 3s\)")
        # Every update it acknowledged, before and after, is kept.
        stored = set(self.herd["Alpha"].sqlite(
            "select client_id from locations").split())
        missing = [c for c in load.acked if c not in stored]
        self.assertEqual(missing, [])
        # Beta, which answered all along, was left alone.
        self.assertEqual(self.herd.status()[1]["Beta"]["restarts"], "0")



class SlowLiveness(SupervisorTestCase):
    """A longer timeout, so that the time between "not healthy" and the
    restart leaves room for a test on a busy machine."""
    names = ("Alpha", "Beta")
    extra = "liveness_timeout 12\n"

    def test_slow_answer_is_not_a_restart(self):
        # A member paused for less than the timeout is shown as not
        # healthy, then healthy again when it answers, and not restarted.
        self.herd.ctl("start", check=0)
        old = int(self.herd.status()[1]["Beta"]["pid"])
        os.kill(old, signal.SIGSTOP)
        try:
            self.herd.wait_state("Beta", "UNHEALTHY", 30)
        finally:
            os.kill(old, signal.SIGCONT)
        m = self.herd.wait_state("Beta", "RUNNING", 30)
        self.assertEqual((m["pid"], m["restarts"]), (str(old), "0"))
        self.assertIn("Beta[%d] answers again" % old, self.herd.log("Beta"))


class LiveReload(SupervisorTestCase):
    """herdctl reload under load: links and members come and go without
    restarting anyone; a setting that needs a restart restarts members
    one at a time; no acknowledged update is lost."""
    names = ("Alpha", "Beta", "Gamma")
    links = (("Alpha", "Beta"), ("Beta", "Gamma"))
    extra = "stop_timeout 5\n"

    def write(self, names, links, extra="stop_timeout 5\n"):
        from herdtest import free_port
        for n in names:
            self.herd.ports.setdefault(n, free_port())
        self.herd.write_conf(names, links, extra)

    def pids(self):
        return {n: m["pid"] for n, m in self.herd.status()[1].items()}

    def peers(self, name):
        """The rows of member name's peers table: {peer: state}."""
        out = self.herd[name].sqlite("select name, state from peers")
        return dict(line.split("|") for line in out.split())

    def test_reload_under_load(self):
        from herdtest import Member
        self.herd.ctl("start", check=0)
        before = self.pids()
        loads = [Load(self.herd[n], "r%s" % n) for n in ("Alpha", "Gamma")]
        for load in loads:
            self.addCleanup(load.stop)
        wait_for(lambda: all(len(l.acked) > 10 for l in loads), 30, "load")
        wait_for(lambda: self.peers("Beta").get("Gamma") == "up", 30,
                 "Beta-Gamma up")

        # A link moves: Beta-Gamma goes, Alpha-Gamma comes.  Nobody
        # restarts; the new link comes up, the old one's rows go.
        links = (("Alpha", "Beta"), ("Alpha", "Gamma"))
        self.write(self.names, links)
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Alpha: applied live", out.stdout)
        self.assertIn("Beta: applied live", out.stdout)
        self.assertIn("Gamma: applied live", out.stdout)
        self.assertNotIn("restart", out.stdout)
        self.assertEqual(self.pids(), before)
        wait_for(lambda: self.peers("Alpha").get("Gamma") == "up", 30,
                 "Alpha-Gamma up")
        wait_for(lambda: "Gamma" not in self.peers("Beta"), 30,
                 "Beta's row of Gamma gone")
        wait_for(lambda: "Beta" not in self.peers("Gamma"), 30,
                 "Gamma's row of Beta gone")
        self.assertRegex(self.herd.log("Beta"),
                         r"notice: peer Gamma: link removed")
        self.assertRegex(self.herd.log("Alpha"),
                         r"notice: peer Gamma: link added")

        # A member joins, linked to Alpha, then leaves: still no restart.
        self.write(self.names + ("Delta",), links + (("Alpha", "Delta"),))
        self.herd.members["Delta"] = Member(self.herd, "Delta")
        self.write(self.names + ("Delta",), links + (("Alpha", "Delta"),))
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Delta: added", out.stdout)
        now = self.pids()
        self.assertEqual(now["Delta"] != "-", True)
        self.assertEqual({n: now[n] for n in before}, before)
        wait_for(lambda: self.peers("Alpha").get("Delta") == "up", 30,
                 "Alpha-Delta up")
        self.write(self.names, links)
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Delta: removed", out.stdout)
        self.assertEqual(self.pids(), before)
        wait_for(lambda: "Delta" not in self.peers("Alpha"), 30,
                 "Alpha's row of Delta gone")

        # Gamma moves: it restarts on its new port; Alpha, its peer,
        # redials it there without a restart.
        from herdtest import free_port
        gamma_pid = self.pids()["Gamma"]
        self.herd.ports["Gamma"] = free_port()
        self.herd["Gamma"].port = self.herd.ports["Gamma"]
        self.write(self.names, links)
        out = self.herd.ctl("reload", check=0)
        self.assertIn("Gamma: restart (member Gamma changed)", out.stdout)
        self.assertIn("Alpha: applied live (member Gamma changed)",
                      out.stdout)
        now = self.pids()
        self.assertNotEqual(now["Gamma"], gamma_pid)
        self.assertEqual(now["Alpha"], before["Alpha"])
        self.assertEqual(now["Beta"], before["Beta"])
        self.assertRegex(self.herd.log("Alpha"),
                         r"notice: peer Gamma: moved from 127\.0\.0\.1:\d+ "
                         r"to 127\.0\.0\.1:%d" % self.herd.ports["Gamma"])
        wait_for(lambda: self.peers("Alpha").get("Gamma") == "up", 30,
                 "Alpha-Gamma up again")
        before["Gamma"] = now["Gamma"]

        # A setting that needs a restart: one at a time, each waiting
        # for the one before; herdctl reload returns once all run.
        self.write(self.names, links, "stop_timeout 5\nmax_line 4096\n")
        out = self.herd.ctl("reload", check=0)
        after = self.pids()
        for n in self.names:
            self.assertIn("%s: restart (max_line changed)" % n, out.stdout)
            self.assertNotEqual(after[n], before[n])
        events = re.findall(r"(\w+) restarting: max_line changed|"
                            r"(\w+)\[\d+\] ready after",
                            self.herd.log())
        restarted = [(a or b, "restart" if a else "ready")
                     for a, b in events][-6:]
        self.assertEqual(restarted, [(n, e) for n in self.names
                                     for e in ("restart", "ready")])

        for load in loads:
            n = len(load.acked)
            wait_for(lambda: len(load.acked) > n + 5, 30, "load after")
            load.stop()
        for load in loads:
            stored = set(load.member.sqlite(
                "select client_id from locations").split())
            self.assertEqual([c for c in load.acked if c not in stored], [])


class StalledSupervisor(SupervisorTestCase):
    """A supervisor that stops reading its members' logs (stopped, here)
    stalls none of them: they keep answering, keep what they can, and
    count the lines they dropped."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)

    def test_members_answer_while_the_supervisor_is_stopped(self):
        self.herd.ctl("start", check=0)
        sup = self.herd.supervisor_pid()
        pids = {n: m["pid"] for n, m in self.herd.status()[1].items()}
        os.kill(sup, signal.SIGSTOP)
        self.addCleanup(os.kill, sup, signal.SIGCONT)
        # Every IAMAT and reply is logged at info: about 3 MB of log
        # lines, far more than the pipe and the member's buffer take.
        n, k = 4, 3000
        replies = [0] * n

        def run(j):
            c = self.herd["Alpha"].connect(timeout=60)
            c.send(b"".join(b"IAMAT s%d-%d +1+1 %d\n" % (j, i, i + 1)
                            for i in range(k)))
            c.shutdown()
            replies[j] = c.read_all().count(b"\nAT Alpha ") + 1
        import threading
        threads = [threading.Thread(target=run, args=(j,)) for j in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(replies, [k] * n)
        # Both members still answer a new client, the supervisor still
        # stopped, some seconds on.
        time.sleep(2)
        for name in ("Alpha", "Beta"):
            self.assertTrue(self.herd[name].ask(KIWI + b"\n").startswith(
                b"AT %s " % name.encode()))
        os.kill(sup, signal.SIGCONT)
        pat = re.compile(r"^%s Alpha\[%s\] warning: (\d+) log lines "
                         r"dropped: stderr took nothing while \d+ bytes "
                         r"waited$" % (STAMP, pids["Alpha"]), re.M)
        dropped = wait_for(lambda: pat.findall(self.herd.log("Alpha")), 60,
                           "the count of dropped lines")
        self.assertGreater(sum(int(x) for x in dropped), 0)
        # Nothing restarted, and what was written is whole lines.
        self.assertEqual({n: m["pid"] for n, m in
                          self.herd.status()[1].items()}, pids)
        for line in self.herd.log("Alpha").splitlines():
            self.assertRegex(line, r"^%s (herd-supervisor|Alpha)\[\d+\] "
                             r"(info|notice|warning|error|debug): " % STAMP)


class Modes(SupervisorTestCase):
    """What a herd writes is not for everyone: the control socket refuses
    other users, and databases, logs and the herd key are kept from them."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to become nobody")
    def test_other_users_refused(self):
        if not others_may_run(HERDCTL):
            self.skipTest("user nobody cannot reach %s (a folder on the "
                          "way is closed to others)" % HERDCTL)
        self.herd.ctl("start", check=0)
        var = os.path.join(self.herd.dir, "var")
        sock = os.path.join(var, "run", "herd.sock")
        # The temporary folder itself must let nobody reach var/.
        os.chmod(self.herd.dir, 0o755)
        os.chmod(var, 0o755)
        probe = ("import socket, sys\n"
                 "s = socket.socket(socket.AF_UNIX)\n"
                 "try:\n"
                 "    s.connect(sys.argv[1])\n"
                 "except OSError as e:\n"
                 "    print(e.strerror); sys.exit(1)\n")
        out = subprocess.run(["/usr/bin/python3", "-c", probe, sock],
                             capture_output=True, text=True, timeout=30,
                             preexec_fn=lambda: (os.setgid(65534),
                                                 os.setuid(65534)))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("Permission denied", out.stdout)
        out = subprocess.run([HERDCTL, "-c", self.herd.conf, "status"],
                             capture_output=True, text=True, timeout=30,
                             env=self.herd.env,
                             preexec_fn=lambda: (os.setgid(65534),
                                                 os.setuid(65534)))
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn("RUNNING", out.stdout)

    def test_modes(self):
        """What others could read is closed to them: no root needed."""
        self.herd.ctl("start", check=0)
        var = os.path.join(self.herd.dir, "var")
        sock = os.path.join(var, "run", "herd.sock")
        # Folders of data, logs and sockets: no access for others; the
        # herd key: its owner only.
        for d in ("lib", "log", "run"):
            mode = stat.S_IMODE(os.stat(os.path.join(var, d)).st_mode)
            self.assertEqual(mode & 0o007, 0, "var/%s is %o" % (d, mode))
        mode = stat.S_IMODE(os.stat(os.path.join(var, "herd.key")).st_mode)
        self.assertEqual(mode, 0o600)
        # The files themselves: databases and logs, nothing for others.
        for d in ("lib", "log"):
            for f in os.listdir(os.path.join(var, d)):
                mode = stat.S_IMODE(os.stat(os.path.join(var, d, f)).st_mode)
                self.assertEqual(mode & 0o007, 0, "var/%s/%s is %o" %
                                 (d, f, mode))
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o600)


class Group(SupervisorTestCase):
    extra = "control_group daemon\n"

    def test_control_group(self):
        self.herd.ctl("start", check=0)
        run_dir = os.path.join(self.herd.dir, "var", "run")
        st = os.stat(os.path.join(run_dir, "herd.sock"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, grp.getgrnam("daemon").gr_gid)
        st = os.stat(run_dir)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o750)
        self.assertEqual(st.st_gid, grp.getgrnam("daemon").gr_gid)

    def test_unknown_group(self):
        with open(self.herd.conf, "a") as f:
            f.write("control_group no-such-group-here\n")
        out = subprocess.run([SUPERVISOR, "-c", self.herd.conf],
                             capture_output=True, text=True, timeout=60,
                             env=self.herd.env)
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("control_group 'no-such-group-here': no such group",
                      out.stderr)


class Errors(SupervisorTestCase):
    names = ("Alpha", "Beta")
    extra = DELAYS

    def run_prog(self, *args):
        return subprocess.run(list(args), capture_output=True, text=True,
                              timeout=60, env=self.herd.env)

    def test_no_supervisor(self):
        out = self.herd.ctl("status")
        self.assertEqual(out.returncode, 4)
        self.assertEqual(out.stdout, "")
        self.assertIn("no supervisor runs for", out.stderr)
        out = self.herd.ctl("stop")
        self.assertEqual(out.returncode, 0)
        for cmd in (("restart", "Alpha"), ("reload",)):
            out = self.herd.ctl(*cmd)
            self.assertEqual(out.returncode, 1, cmd)
            self.assertIn("no supervisor runs for", out.stderr)

    def test_usage(self):
        for args in ((), ("frobnicate",), ("logs",), ("reload", "x")):
            out = self.run_prog(HERDCTL, "-c", self.herd.conf, *args)
            self.assertEqual(out.returncode, 64, args)
            self.assertIn("usage: herdctl", out.stderr)
        out = self.run_prog(SUPERVISOR, "-x")
        self.assertEqual(out.returncode, 64)
        self.assertIn("usage: herd-supervisor", out.stderr)

    def test_unknown_member(self):
        self.herd.ctl("start", check=0)
        out = self.herd.ctl("status", "Nobody")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no member 'Nobody' here", out.stderr)
        out = self.herd.ctl("logs", "Nobody")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no member 'Nobody'", out.stderr)

    def test_bad_configuration(self):
        with open(self.herd.conf, "a") as f:
            f.write("frobnicate 1\n")
        out = self.run_prog(SUPERVISOR, "-c", self.herd.conf)
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertRegex(out.stderr, r"herd\.conf:\d+: unknown directive "
                         r"'frobnicate'")
        out = self.herd.ctl("start")
        self.assertEqual(out.returncode, 1)
        self.assertIn("unknown directive 'frobnicate'", out.stderr)
        out = self.run_prog(SUPERVISOR, "-c",
                            os.path.join(self.herd.dir, "nope.conf"))
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("nope.conf: No such file or directory", out.stderr)

    def test_member_selection(self):
        out = self.run_prog(SUPERVISOR, "-c", self.herd.conf, "Nobody")
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("no member named 'Nobody'", out.stderr)
        # An address of no interface here: not this host's member.
        with open(self.herd.conf, "w") as f:
            f.write("member Far 192.0.2.1:%d\n" % self.herd.ports["Alpha"])
        out = self.run_prog(SUPERVISOR, "-c", self.herd.conf)
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("no member has its address on this host", out.stderr)

    def test_explicit_members(self):
        # Named on the command line, only those run.
        self.herd.ctl("start", "Beta", check=0)
        rc, members = self.herd.status()
        self.assertEqual(rc, 0)
        self.assertEqual(list(members), ["Beta"])
        self.assertEqual(self.herd.processes(),
                         [int(members["Beta"]["pid"])])

    def test_server_not_found(self):
        env = dict(self.herd.env, HERD_BINDIR=self.herd.dir, PATH="/nowhere")
        os.symlink(SUPERVISOR, os.path.join(self.herd.dir, "herd-supervisor"))
        out = subprocess.run([os.path.join(self.herd.dir, "herd-supervisor"),
                              "-c", self.herd.conf], capture_output=True,
                             text=True, timeout=60, env=env)
        # Next to its own executable (the build tree) it is found...
        self.assertEqual(out.returncode, 0, out.stderr)
        self.herd.ctl("stop", check=0)
        # ...but not when it is nowhere.
        copy = os.path.join(self.herd.dir, "bin", "herd-supervisor")
        os.makedirs(os.path.dirname(copy))
        with open(SUPERVISOR, "rb") as src, open(copy, "wb") as dst:
            dst.write(src.read())
        os.chmod(copy, 0o755)
        env["HERD_BINDIR"] = os.path.join(self.herd.dir, "bin")
        out = subprocess.run([copy, "-c", self.herd.conf],
                             capture_output=True, text=True, timeout=60,
                             env=env)
        if os.path.exists("/usr/local/bin/herd-server"):
            self.skipTest("herd-server is installed in /usr/local/bin")
        self.assertEqual(out.returncode, 1)
        self.assertIn("herd-server not found", out.stderr)


if __name__ == "__main__":
    main()
