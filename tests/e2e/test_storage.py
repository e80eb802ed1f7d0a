"""Storage: the database an operator reads with sqlite3."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

from herdtest import (EXIT_CONFIG, KIWI, SERVER, SRCDIR, HerdTestCase, main,
                      others_may_run, split_whatsat, strace_env)


class Database(HerdTestCase):

    def test_sqlite_shell_reads_while_running(self):
        m = self.herd["Alpha"]
        at = m.ask(KIWI + b"\n")
        out = m.sqlite("select client_id, server_id, time_diff, location, "
                       "latitude, longitude, client_time from locations")
        fields = at.decode().split()
        self.assertEqual(out.strip().split("|"), [
            "kiwi.cs.ucla.edu", "Alpha", fields[2], "+34.068930-118.445127",
            "34.06893", "-118.445127", "1520023934.918963997"])
        self.assertEqual(m.sqlite("pragma journal_mode").strip(), "wal")
        self.assertEqual(m.sqlite("pragma user_version").strip(), "3")

    def test_reply_only_after_commit(self):
        """Whenever an AT reply arrives, another connection already sees
        the row: the reply was sent after the commit."""
        m = self.herd["Alpha"]
        c = m.connect()
        db = sqlite3.connect(m.db)
        for i in range(20):
            c.send(b"IAMAT d%d +1+1 %d\n" % (i, i))
            c.read_line()
            row = db.execute("select client_time from locations where "
                             "client_id = ?", ("d%d" % i,)).fetchone()
            self.assertEqual(row, (str(i),))
        db.close()

    def test_many_updates_one_connection(self):
        """A pipeline of updates is answered in order and all are stored
        (GroupCommit checks that they share commits)."""
        m = self.herd["Alpha"]
        n = 2000
        data = b"".join(b"IAMAT p%d +1+1 %d\n" % (i, i) for i in range(n))
        reply = m.ask(data, timeout=60)
        lines = reply.split(b"\n")[:-1]
        self.assertEqual(len(lines), n)
        for i, line in enumerate(lines):
            self.assertTrue(line.endswith(b" p%d +1+1 %d" % (i, i)), line)
        self.assertEqual(m.sqlite("select count(*) from locations").strip(),
                         str(n))

    def test_persistence_across_restart(self):
        m = self.herd["Alpha"]
        at = m.ask(KIWI + b"\n")
        self.assertEqual(m.stop(), 0)
        m.start()
        reply = m.ask(b"WHATSAT kiwi.cs.ucla.edu 10 0\n")
        self.assertTrue(reply.startswith(at), reply)

    def test_persistence_after_kill(self):
        """An acknowledged update survives SIGKILL of the member."""
        m = self.herd["Alpha"]
        at = m.ask(KIWI + b"\n")
        m.kill()
        m.start()
        reply = m.ask(b"WHATSAT kiwi.cs.ucla.edu 10 0\n")
        self.assertTrue(reply.startswith(at), reply)

    def test_wal_shrinks_after_a_long_reader(self):
        """A reader holding a snapshot lets the WAL file grow; once it is
        gone, the file is cut back (journal_size_limit, 4 MiB)."""
        m = self.herd["Alpha"]
        m.ask(b"IAMAT first +1+1 1\n")
        shell = subprocess.Popen(["sqlite3", m.db], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        wal = m.db + "-wal"
        try:
            shell.stdin.write("BEGIN;\nSELECT count(*) FROM locations;\n")
            shell.stdin.flush()
            self.assertEqual(shell.stdout.readline().strip(), "1")
            c = m.connect(timeout=60)
            pad = b"p" * 200
            for k in range(60):
                iamats = b"".join(b"IAMAT %s%d-%d +1+1 5\n" % (pad, k, i)
                                  for i in range(200))
                c.send(iamats)
                for _ in range(200):
                    c.read_line()
            grown = os.path.getsize(wal)
            self.assertGreater(grown, 8 * 1024 * 1024)
        finally:
            shell.stdin.write("COMMIT;\n.quit\n")
            shell.stdin.close()
            shell.wait(10)
            shell.stdout.close()
        for k in range(5):
            c.send(b"IAMAT after%d +1+1 5\n" % k)
            c.read_line()
            time.sleep(0.05)
        self.assertLessEqual(os.path.getsize(wal), 4 * 1024 * 1024,
                             "WAL stayed at %d bytes" % os.path.getsize(wal))

    def test_locked_database(self):
        """While another writer holds the database, an IAMAT cannot be
        made durable: its connection is closed without a reply, other
        commands still work, and updates work again once the lock goes."""
        m = self.herd["Alpha"]
        m.ask(b"IAMAT known +1+1 5\n")
        shell = subprocess.Popen(["sqlite3", m.db], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            shell.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n")
            shell.stdin.flush()
            self.assertEqual(shell.stdout.readline().strip(), "locked")

            c = m.connect()
            c.send(b"IAMAT lost +2+2 6\n")
            self.assertTrue(c.closed())
            self.assertRegex(m.ask(b"WHATSAT known 1 0\n"),
                             rb"^AT Alpha \S+ known ")
            self.assertEqual(m.ask(b"WHATSAT lost 1 0\n"),
                             b"? WHATSAT lost 1 0\n")
        finally:
            shell.stdin.write("ROLLBACK;\n.quit\n")
            shell.stdin.close()
            shell.wait(10)
            shell.stdout.close()
        m.wait_log(r"begin: database is locked")
        m.wait_log(r"disconnected \(update not committed\)")
        self.assertRegex(m.ask(b"IAMAT lost +2+2 6\n"), rb"^AT Alpha ")


class Everysec(HerdTestCase):
    """fsync everysec: a reply once the update is written, not synced."""
    extra = "fsync everysec"

    def test_answered_and_stored(self):
        m = self.herd["Alpha"]
        self.assertIn("WAL, synchronous=NORMAL, WAL synced every second "
                      "(fsync everysec): a power loss can lose the last "
                      "second of updates", m.log())
        self.assertNotIn("synchronous=FULL", m.log())
        n = 300
        reply = m.ask(b"".join(b"IAMAT e%d +1+1 %d\n" % (i, i)
                               for i in range(n)))
        self.assertEqual(len(reply.split(b"\n")) - 1, n)
        self.assertEqual(m.sqlite("select count(*), min(client_time + 0), "
                                  "max(client_time + 0) from locations"),
                         "%d|0|%d\n" % (n, n - 1))

    def test_nothing_lost_to_sigkill(self):
        """A crash of the member loses nothing: what was acknowledged was
        written to the WAL, which the operating system keeps."""
        m = self.herd["Alpha"]
        c = m.connect()
        acked = []
        for i in range(50):
            c.send(b"IAMAT k%d +1+1 %d\n" % (i, i))
            self.assertRegex(c.read_line(), rb"^AT Alpha ")
            acked.append("k%d" % i)
        n = 500
        c.send(b"".join(b"IAMAT p%d +2+2 %d\n" % (i, i) for i in range(n)))
        for i in range(n):
            self.assertTrue(c.read_line().endswith(b" p%d +2+2 %d\n" %
                                                   (i, i)))
            acked.append("p%d" % i)
        # At once, well within the second before the WAL is synced.
        m.kill()
        m.start()
        stored = set(m.sqlite("select client_id from locations").split())
        self.assertEqual(stored, set(acked))
        self.assertRegex(m.ask(b"WHATSAT k49 10 0\n"), rb"^AT Alpha \S+ k49 ")


class Strace:
    """strace on every thread of a running process, writing its syncs
    (fsync, fdatasync) to a file; inject makes each fdatasync fail with
    EIO, or does what it says to each (delay_exit=US, ...).  Skips the
    test where strace is missing or may not attach."""

    SYNC = re.compile(r"^\d+\s+(fsync|fdatasync)\(\d+<([^>]*)>")

    def __init__(self, test, pid, inject=False):
        if shutil.which("strace") is None:
            test.skipTest("strace is not installed (apt-get install strace)")
        self.pid = pid
        self.out = os.path.join(test.herd.dir, "strace.out")
        args = ["strace", "-f", "-y", "-e", "trace=fsync,fdatasync",
                "-o", self.out]
        if inject:
            args += ["-e", "inject=fdatasync:" + (
                inject if isinstance(inject, str) else "error=EIO")]
        self.proc = subprocess.Popen(args + ["-p", str(pid)],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        test.addCleanup(self.stop)
        deadline = time.monotonic() + 10
        while not self.attached():
            if self.proc.poll() is not None:
                test.skipTest("strace cannot attach (is ptrace permitted "
                              "here?): %s" % self.proc.stderr.read().strip())
            if time.monotonic() > deadline:
                raise AssertionError("strace did not attach in 10 s")
            time.sleep(0.02)

    def attached(self):
        """Is every thread of the process traced by our strace?"""
        try:
            tasks = os.listdir("/proc/%d/task" % self.pid)
            for t in tasks:
                with open("/proc/%d/task/%s/status" % (self.pid, t)) as f:
                    m = re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M)
                if not m or int(m.group(1)) != self.proc.pid:
                    return False
        except OSError:
            return False
        return True

    def stop(self):
        """Detach (strace detaches on SIGTERM) and return the trace."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self.proc.stderr.close()
        return self.lines()

    def lines(self):
        try:
            with open(self.out) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def syncs(self, lines=None):
        """The paths synced, one per call, in order."""
        if lines is None:
            lines = self.lines()
        return [m.group(2) for m in map(self.SYNC.match, lines) if m]


def wal_only(paths):
    """The syncs of a database's WAL file among the paths synced."""
    return [p for p in paths if p.endswith(".db-wal")]


class SyncCount(HerdTestCase):
    """Who syncs what, counted with strace: with fsync always every commit
    syncs the WAL, with everysec only the writer's sync once a second."""
    start = False
    env = strace_env()
    IAMATS = 25

    def load(self, mode):
        """IAMATs one at a time, each its own commit, for about 2.5 s,
        under strace; returns the files synced meanwhile, and how many
        seconds that took."""
        self.herd.write_conf(("Alpha",), extra="fsync " + mode)
        m = self.herd["Alpha"]
        m.start()
        trace = Strace(self, m.proc.pid)
        start = time.monotonic()
        c = m.connect()
        for i in range(self.IAMATS):
            c.send(b"IAMAT s%d +1+1 %d\n" % (i, i))
            self.assertRegex(c.read_line(), rb"^AT Alpha ")
            time.sleep(0.1)
        syncs = trace.syncs(trace.stop())
        elapsed = time.monotonic() - start
        self.assertEqual(m.sqlite("select count(*) from locations"),
                         "%d\n" % self.IAMATS)
        return syncs, elapsed

    def test_always_syncs_every_commit(self):
        syncs, _ = self.load("always")
        wal = wal_only(syncs)
        self.assertGreaterEqual(len(wal), self.IAMATS, syncs)

    def test_everysec_syncs_once_a_second(self):
        syncs, elapsed = self.load("everysec")
        wal = wal_only(syncs)
        # About one a second (two or three), none for the commits; a
        # slow machine stretches the seconds, not the count per second.
        self.assertGreaterEqual(len(wal), 1, syncs)
        self.assertLessEqual(len(syncs), int(elapsed) + 2, syncs)
        self.assertLess(int(elapsed) + 2, self.IAMATS / 2, "too slow to "
                        "tell a sync a second from one a commit")

    def test_everysec_clean_stop_syncs(self):
        """SIGTERM a moment after a commit, before its sync is due: the
        member syncs the WAL on its way out."""
        self.herd.write_conf(("Alpha",), extra="fsync everysec")
        m = self.herd["Alpha"]
        m.start()
        trace = Strace(self, m.proc.pid)
        self.assertRegex(m.ask(b"IAMAT last +1+1 1\n"), rb"^AT Alpha ")
        m.proc.send_signal(signal.SIGTERM)
        self.assertEqual(m.wait_exit(), 0)
        lines = trace.stop()
        stop = [i for i, l in enumerate(lines) if "--- SIGTERM" in l]
        self.assertEqual(len(stop), 1, lines)
        self.assertEqual(wal_only(trace.syncs(lines[:stop[0]])), [], lines)
        self.assertEqual(len(wal_only(trace.syncs(lines[stop[0]:]))), 1,
                         lines)


class SyncFailure(HerdTestCase):
    """fsync everysec with every fdatasync failing (EIO, injected by
    strace): the member logs it and goes on."""
    extra = "fsync everysec"
    env = strace_env()

    def test_logged_once_and_member_goes_on(self):
        m = self.herd["Alpha"]
        trace = Strace(self, m.proc.pid, inject=True)
        c = m.connect()
        for i in range(30):
            c.send(b"IAMAT f%d +1+1 %d\n" % (i, i))
            self.assertRegex(c.read_line(), rb"^AT Alpha ")
            time.sleep(0.1)
        lines = trace.stop()
        failed = [l for l in lines if "EIO" in l and "INJECTED" in l]
        # It failed again every second, but said so once.
        self.assertGreaterEqual(len(failed), 2, lines)
        m.wait_log(r"fdatasync works again, after %d failures" % len(failed))
        self.assertEqual(len(re.findall(
            r"error: \S+/Alpha\.db-wal: fdatasync: Input/output error: the "
            r"updates acknowledged since the last sync are in the operating "
            r"system's hands but perhaps not on disk", m.log())), 1,
            m.log())
        self.assertEqual(m.sqlite("select count(*) from locations"), "30\n")
        self.assertRegex(m.ask(b"IAMAT after +1+1 1\n"), rb"^AT Alpha ")

    def test_failure_at_stop_logged(self):
        m = self.herd["Alpha"]
        trace = Strace(self, m.proc.pid, inject=True)
        self.assertRegex(m.ask(b"IAMAT last +1+1 1\n"), rb"^AT Alpha ")
        m.proc.send_signal(signal.SIGTERM)
        self.assertEqual(m.wait_exit(), 0)
        trace.stop()
        self.assertRegex(m.log(), r"error: \S+/Alpha\.db-wal: fdatasync at "
                         r"stop: Input/output error: the last updates are "
                         r"written but perhaps not on disk")


class SlowDisk(HerdTestCase):
    """Every fdatasync takes 2 s (strace delays it): a WHATSAT that comes
    while an IAMAT of the same connection is being committed waits for
    that commit, and shows the new location."""
    env = strace_env()

    def test_whatsat_sees_own_iamat_during_commit(self):
        m = self.herd["Alpha"]
        old = m.ask(b"IAMAT slow +1+1 5\n")
        Strace(self, m.proc.pid, inject="delay_exit=2000000")
        c = m.connect(timeout=60)
        c.send(b"IAMAT slow +2+2 6\n")
        # Well inside the commit's 2 s sync, and after the member has
        # read the IAMAT alone and handed its batch to the writer.
        time.sleep(0.05)
        c.send(b"WHATSAT slow 10 0\n")
        c.shutdown()
        at = c.read_line()
        self.assertRegex(at, rb"^AT Alpha \S+ slow \+2\+2 6\n$")
        self.assertNotEqual(at, old)
        self.assertEqual(split_whatsat(c.read_all()),
                         (at, {"html_attributions": [], "results": [],
                               "status": "OK"}))


class FullDisk(HerdTestCase):
    """The data folder fills up: updates that cannot be committed are never
    acknowledged, acknowledged ones are all kept, and the member carries
    on and recovers once there is room again."""
    start = False

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        self.mnt = os.path.join(self.herd.dir, "var", "lib")
        os.makedirs(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m",
                            "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %r" % r.stderr)
        # Cleanups run after tearDown has stopped the member.
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.herd["Alpha"].start()

    def test_full_disk(self):
        m = self.herd["Alpha"]
        kept = m.ask(b"IAMAT kept +1+1 5\n")
        filler = os.path.join(self.mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        os.close(fd)

        n = 3000
        c = m.connect(timeout=30)
        try:
            c.send(b"".join(b"IAMAT %s-%d +1+1 6\n" % (b"y" * 200, i)
                            for i in range(n)))
            # Half-close, so that the member's close, not a timeout, ends
            # the read below and the checks after it really run.
            c.shutdown()
        except OSError:
            pass        # the member closed the connection mid-send
        try:
            acked = c.read_all().count(b"\n")
        except ConnectionResetError:
            acked = 0
        self.assertLess(acked, n)
        m.wait_log(r"(commit|write): database or disk is full "
                   r"\(batch of \d+ writes rolled back\)")
        m.wait_log(r"disconnected \(update not committed\)")
        # Still serving, from what it kept.
        self.assertTrue(m.ask(b"WHATSAT kept 1 0\n").startswith(kept))
        # Failing commit after failing commit is logged about once a
        # second, with a count of the lines left out.
        start = time.monotonic()
        tries = 0
        while time.monotonic() - start < 2.5:
            try:
                m.ask(b"IAMAT %s-%d +1+1 6\n" % (b"z" * 200, tries), 5)
            except OSError:
                pass
            tries += 1
        rolled = re.findall(r"rolled back\)(: (\d+) more like this)?",
                            m.log())
        self.assertGreater(tries, 20)
        self.assertLessEqual(len(rolled), 6, "rolled-back lines logged")
        m.wait_log(r"rolled back\): \d+ more like this in the last seconds")
        # Every acknowledged update is in the database, and only those.
        self.assertEqual(m.sqlite("select count(*) from locations where "
                                  "client_id like 'yyy%'").strip(),
                         str(acked))
        os.unlink(filler)
        self.assertRegex(m.ask(b"IAMAT after +2+2 7\n"), rb"^AT Alpha ")


class LostDatabase(HerdTestCase):
    """The data folder removed under a running member: it stops
    acknowledging at once, exits, and will not start again on an empty
    database unless told to (-n)."""

    def test_data_dir_removed(self):
        m = self.herd["Alpha"]
        self.assertRegex(m.ask(b"IAMAT kept +1+1 5\n"), rb"^AT Alpha ")
        shutil.rmtree(os.path.dirname(m.db))
        c = m.connect()
        c.send(b"IAMAT lost +2+2 6\n")
        # Half-close, so that the member's close or exit, not a timeout,
        # ends the read, and an AT sent all the same fails the check.
        c.shutdown()
        self.assertNotIn(b"AT ", c.read_all())
        self.assertEqual(m.wait_exit(), 1)
        m.wait_log(r"the database file was removed or replaced")
        # A restart refuses to start empty where a database was.
        m.start(wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        self.assertIn("is missing, but this member had a database there",
                      m.log())
        self.assertIn("start empty on purpose with herd-server -n", m.log())
        # Said on purpose, it does.
        m.start(args=("-n",))
        self.assertIn("starting empty on purpose", m.log())
        self.assertEqual(m.ask(b"WHATSAT kept 1 0\n"), b"? WHATSAT kept 1 0\n")
        # And from then on this is the database it expects.
        m.stop()
        m.start()

    def test_run_dir_removed(self):
        # run_dir is emptied at each boot: the guard's record is kept
        # with the data, so a database lost after a reboot is still
        # noticed.
        m = self.herd["Alpha"]
        self.assertRegex(m.ask(b"IAMAT kept +1+1 5\n"), rb"^AT Alpha ")
        m.stop()
        run_dir = os.path.join(self.herd.dir, "var", "run")
        shutil.rmtree(run_dir)
        self.assertTrue(os.path.exists(m.db + "-id"))
        m.start()
        m.stop()
        shutil.rmtree(run_dir)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(m.db + suffix):
                os.unlink(m.db + suffix)
        m.start(wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        self.assertIn("is missing, but this member had a database there",
                      m.log())

    def test_record_in_run_dir_moves(self):
        # A record an older herd-server left in run_dir alone is taken
        # into data_dir at the next start.
        m = self.herd["Alpha"]
        m.ask(b"IAMAT kept +1+1 5\n")
        m.stop()
        run_mark = os.path.join(self.herd.dir, "var", "run", "Alpha.db-id")
        with open(m.db + "-id") as f:
            ident = f.read()
        os.rename(m.db + "-id", run_mark)
        m.start()
        with open(m.db + "-id") as f:
            self.assertEqual(f.read(), ident)
        m.stop()
        shutil.rmtree(os.path.join(self.herd.dir, "var", "run"))
        os.unlink(m.db)
        m.start(wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)

    def test_database_replaced(self):
        m = self.herd["Alpha"]
        m.ask(b"IAMAT kept +1+1 5\n")
        os.rename(m.db, m.db + ".old")
        shutil.copy(m.db + ".old", m.db)
        c = m.connect()
        c.send(b"IAMAT lost +2+2 6\n")
        c.shutdown()
        self.assertNotIn(b"AT ", c.read_all())
        self.assertEqual(m.wait_exit(), 1)
        # What is at the path now serves after a restart.
        m.start()
        self.assertRegex(m.ask(b"WHATSAT kept 1 0\n"), rb"^AT Alpha ")


class Unwritable(HerdTestCase):
    """A database that cannot be written: exit 78 at start, not a member
    that listens and then drops every IAMAT."""
    start = False

    @unittest.skipUnless(os.geteuid() == 0, "needs root to mount")
    def test_read_only_file_system(self):
        m = self.herd["Alpha"]
        m.start()
        m.stop()
        lib = os.path.dirname(m.db)
        subprocess.run(["mount", "--bind", lib, lib], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", lib],
                           check=True)
            m.start(wait=False)
            self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        finally:
            subprocess.run(["umount", lib], check=True)
        self.assertRegex(m.log(), r"(cannot be written|readonly|read-only)")

    def test_read_only_file(self):
        """As a user the mode forbids writing; root ignores modes, so the
        test drops to nobody for it."""
        m = self.herd["Alpha"]
        if os.geteuid() == 0 and not others_may_run(SERVER):
            self.skipTest("user nobody cannot reach %s (a folder on the "
                          "way is closed to others)" % SERVER)
        m.start()
        m.stop()
        os.chmod(m.db, 0o444)
        if os.geteuid() == 0:
            os.chmod(self.herd.dir, 0o755)
            for d in ("var", "var/lib", "var/log", "var/run"):
                os.chmod(os.path.join(self.herd.dir, d), 0o777)
            os.chmod(m.db + "-wal", 0o666) if os.path.exists(m.db + "-wal") else None
            m.start(wait=False, preexec=lambda: (os.setgid(65534),
                                                 os.setuid(65534)))
        else:
            m.start(wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        self.assertIn("the database cannot be written", m.log())


class Shutdown(HerdTestCase):
    """SIGTERM under load: the member stops reading, commits what it read,
    answers every committed update, then closes."""

    def test_every_committed_update_answered(self):
        m = self.herd["Alpha"]
        conns = [m.connect(timeout=30) for _ in range(4)]
        replies = [0] * len(conns)

        def run(k):
            c = conns[k]
            try:
                c.send(b"".join(b"IAMAT z%d-%d +1+1 5\n" % (k, i)
                                for i in range(20000)))
            except OSError:
                pass        # the member stopped reading: expected
            replies[k] = c.read_all().count(b"\n")
        threads = [threading.Thread(target=run, args=(k,))
                   for k in range(len(conns))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        m.proc.send_signal(signal.SIGTERM)
        self.assertEqual(m.wait_exit(), 0)
        for t in threads:
            t.join(30)
        stored = int(m.sqlite("select count(*) from locations").strip())
        self.assertGreater(stored, 0)
        self.assertEqual(sum(replies), stored)


class GroupCommit(HerdTestCase):
    args = ("-v",)

    def test_group_commit_logged(self):
        m = self.herd["Alpha"]
        n = 500
        data = b"".join(b"IAMAT g%d +1+1 %d\n" % (i, i) for i in range(n))
        self.assertEqual(len(m.ask(data).split(b"\n")) - 1, n)
        commits = [int(x) for x in
                   re.findall(r"committed (\d+) updates", m.log())]
        self.assertEqual(sum(commits), n)
        self.assertLess(len([c for c in commits if c]), n / 2, commits)


class WriterThread(HerdTestCase):
    """The thread that commits is named herd-writer and runs ten nice
    levels below the event loop (Linux), so that on a busy machine a loop
    with updates to pass on runs first."""

    @unittest.skipUnless(sys.platform.startswith("linux"),
                         "only Linux sets the nice value of a thread")
    def test_named_and_nicer(self):
        m = self.herd["Alpha"]
        task = "/proc/%d/task" % m.proc.pid

        def nice(tid):
            with open("%s/%s/stat" % (task, tid)) as f:
                # Field 19; the name in parentheses may hold spaces.
                return int(f.read().rsplit(")", 1)[1].split()[16])

        names = {}
        for tid in os.listdir(task):
            try:
                with open("%s/%s/comm" % (task, tid)) as f:
                    names[tid] = f.read().strip()
            except FileNotFoundError:
                pass        # a thread that ended meanwhile
        writers = [tid for tid, name in names.items()
                   if name == "herd-writer"]
        self.assertEqual(len(writers), 1, names)
        self.assertEqual(nice(writers[0]),
                         min(nice(str(m.proc.pid)) + 10, 19))


class Schema(HerdTestCase):
    start = False

    def test_newer_database_refused(self):
        m = self.herd["Alpha"]
        os.makedirs(os.path.dirname(m.db))
        db = sqlite3.connect(m.db)
        db.execute("pragma user_version = 99")
        db.close()
        m.start(wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        self.assertIn("database schema version 99 is newer than this "
                      "herd-server supports (3); refusing to use it",
                      m.log())
        # Nothing was changed.
        self.assertEqual(m.sqlite("pragma user_version").strip(), "99")
        self.assertEqual(m.sqlite(".tables").strip(), "")
        self.assertEqual(m.sqlite("pragma journal_mode").strip(), "delete")

    def test_new_database_migrated(self):
        m = self.herd["Alpha"]
        m.start()
        self.assertIn("migrating schema to version 1", m.log())
        self.assertIn("migrating schema to version 2", m.log())
        self.assertIn("migrating schema to version 3", m.log())
        # The durability every AT line relies on, read back by the member.
        self.assertIn("WAL, synchronous=FULL: a reply waits for fsync",
                      m.log())
        self.assertEqual(m.sqlite("pragma user_version").strip(), "3")
        m.stop()
        m.start()
        self.assertEqual(m.log().count("migrating schema"), 3)

    def test_version_1_database_migrated(self):
        """A database of the first schema keeps its rows, which get
        change numbers so that peers can be sent them, and receive
        times."""
        m = self.herd["Alpha"]
        os.makedirs(os.path.dirname(m.db))
        with open(os.path.join(SRCDIR, "schema", "001-locations.sql")) as f:
            v1 = f.read()
        db = sqlite3.connect(m.db)
        db.executescript(v1 + "PRAGMA user_version = 1;")
        db.execute("INSERT INTO locations VALUES ('old', 'Alpha', "
                   "'+1.000000000', '+1+1', 1, 1, '5')")
        db.commit()
        db.close()
        m.start()
        self.assertEqual(m.log().count("migrating schema"), 2)
        # Its receive time, for location_ttl: client time plus time-diff.
        self.assertEqual(m.sqlite("select client_id, seq, via is null, "
                                  "received from locations"),
                         "old|1|1|1970-01-01T00:00:06.000000000Z\n")
        self.assertEqual(m.sqlite("select last_seq from member"), "1\n")
        self.assertRegex(m.sqlite("select db_id from member"),
                         r"^[0-9a-f]{32}\n$")
        self.assertRegex(m.ask(b"WHATSAT old 1 0\n"),
                         rb"^AT Alpha \+1.000000000 old \+1\+1 5\n")

    def test_directories_created(self):
        m = self.herd["Alpha"]
        m.start()
        for d in ("lib", "log", "run"):
            st = os.stat(os.path.join(self.herd.dir, "var", d))
            self.assertEqual(st.st_mode & 0o777, 0o750, d)


if __name__ == "__main__":
    main()
