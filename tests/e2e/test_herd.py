"""The herd: peer links, flooding, failures and catch-up, end to end.

Real members on free ports, linked as the topology file says.  Every
check is what an operator would look at: WHATSAT at another member, the
rows of each database through the sqlite3 shell, the peers table.
"""

import hashlib
import hmac
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import threading
import time

from herdtest import (ROWS, Conn, HerdTestCase, main, sanitizer_report,
                      strace_env, wait_for)

# The example herd of the README: the five CS 131 members and their links.
EXAMPLE = ("Goloman", "Hands", "Holiday", "Welsh", "Wilkes")
EXAMPLE_LINKS = (("Goloman", "Hands"), ("Goloman", "Holiday"),
                 ("Goloman", "Wilkes"), ("Hands", "Wilkes"),
                 ("Holiday", "Welsh"), ("Holiday", "Wilkes"))


def iamats(conn, lines):
    """Send IAMAT lines pipelined on conn and return their AT replies."""
    conn.send(b"".join(l + b"\n" for l in lines))
    return [conn.read_line() for _ in lines]


class HerdCase(HerdTestCase):
    """Helpers shared by the herd tests."""
    extra = "peer_retry_min 0.05\npeer_retry_max 0.5\n"

    def rows(self, name):
        return self.herd[name].sqlite(ROWS)

    def wait_links(self, names=None, timeout=60):
        """Wait until every link of each member is up in its peers table."""
        names = names or list(self.herd.members)
        for n in names:
            m = self.herd[n]
            wait_for(lambda: m.sqlite("select count(*) from peers where "
                                      "state != 'up'").strip() == "0" and
                     m.sqlite("select count(*) from peers").strip() != "0",
                     timeout, "links of %s up" % n)

    def wait_converged(self, names=None, timeout=60, want=None):
        """Wait until the members' locations tables are identical (and,
        with want, hold that many rows); return the rows."""
        names = names or list(self.herd.members)

        def same():
            r = [self.rows(n) for n in names]
            if any(x != r[0] for x in r):
                return None
            if want is not None and r[0].count("\n") != want:
                return None
            return r[0]
        return wait_for(same, timeout, "convergence of %s" % ", ".join(names))

    def wait_empty(self, names=None, timeout=60):
        """Wait until no member's locations table holds a row."""
        for n in names or list(self.herd.members):
            wait_for(lambda: self.rows(n) == "", timeout,
                     "%s to hold no location" % n)

    def whatsat_at(self, name, client):
        """The AT line that member name answers for client (bound 0)."""
        reply = self.herd[name].ask(b"WHATSAT %s 10 0\n" % client)
        return reply.split(b"\n")[0] + b"\n"


class Example(HerdCase):
    """The five-member example topology."""
    names = EXAMPLE
    links = EXAMPLE_LINKS

    def test_iamat_anywhere_whatsat_everywhere(self):
        self.wait_links()
        at = {}
        for i, n in enumerate(EXAMPLE):
            client = b"phone-%d" % i
            at[client] = self.herd[n].ask(
                b"IAMAT %s +34.06893%d-118.445127 1520023934.%d\n" %
                (client, i, i))
            self.assertRegex(at[client], rb"^AT %s " % n.encode())
        for client, line in at.items():
            for n in EXAMPLE:
                wait_for(lambda: self.whatsat_at(n, client) == line, 30,
                         "%s to know %s" % (n, client))
        rows = self.wait_converged(want=5)
        for i, n in enumerate(EXAMPLE):
            self.assertIn("phone-%d|%s|" % (i, n), rows)

    def test_herd_key_made_once_with_mode_0600(self):
        self.wait_links()
        path = os.path.join(self.herd.dir, "var", "herd.key")
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        leftovers = [f for f in os.listdir(os.path.dirname(path))
                     if f.endswith(".tmp")]
        self.assertEqual(leftovers, [])

    def test_peers_table(self):
        self.wait_links()
        self.herd["Hands"].ask(b"IAMAT p +1+1 1\n")
        self.wait_converged(want=1)
        m = self.herd["Goloman"]
        self.assertEqual(m.sqlite("select name, address, state from peers "
                                  "order by name"),
                         "".join("%s|127.0.0.1:%d|up\n" %
                                 (n, self.herd.ports[n])
                                 for n in ("Hands", "Holiday", "Wilkes")))
        # Goloman got the update from Hands, over that link, once.
        wait_for(lambda: m.sqlite("select received, applied from peers "
                                  "where name = 'Hands'") == "1|1\n", 10,
                 "counters saved")
        # Hands' own row for Goloman: it acknowledged change 1.
        wait_for(lambda: self.herd["Hands"].sqlite(
            "select acked from peers where name = 'Goloman'") == "1\n",
            10, "acknowledgement saved")


class HerdKeyFile(HerdCase):
    """The herd key file a member makes is on the disk before its name
    is: written and synced under a temporary name, then linked."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def test_synced_before_linked(self):
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed (apt-get install strace)")
        r = subprocess.run(["strace", "-o", os.devnull, "true"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("strace cannot trace here (is ptrace permitted?): "
                          "%s" % r.stderr.strip())
        out = os.path.join(self.herd.dir, "strace.out")
        m = self.herd["Alpha"]
        m.start(env=strace_env(), wrap=(
            "strace", "-f", "-y", "-o", out,
            "-e", "trace=fsync,fdatasync,link,linkat,rename,renameat,"
            "renameat2"))
        # strace keeps SIGTERM from the program it runs: stop the member.
        with open("/proc/%d/task/%d/children" % (m.proc.pid,
                                                   m.proc.pid)) as f:
            child = int(f.read().split()[0])
        os.kill(child, signal.SIGTERM)
        self.assertEqual(m.wait_exit(30), 0)
        with open(out) as f:
            trace = f.read().splitlines()
        key = os.path.join(self.herd.dir, "var", "herd.key")
        made = [i for i, l in enumerate(trace)
                if re.search(r'link(at)?\(.*"%s"' % re.escape(key), l)]
        self.assertEqual(len(made), 1, trace)
        tmp = re.search(r'"([^"]*\.tmp)"', trace[made[0]])
        self.assertTrue(tmp, trace[made[0]])
        synced = [i for i, l in enumerate(trace)
                  if re.search(r"\b(fsync|fdatasync)\(\d+<%s>\) = 0" %
                               re.escape(tmp.group(1)), l)]
        self.assertTrue(synced and synced[0] < made[0], trace)
        with open(key, "rb") as f:
            self.assertEqual(len(f.read()), 32)


class Failures(HerdCase):
    """Members going down, links cut, and catch-up."""
    names = EXAMPLE
    links = EXAMPLE_LINKS

    def test_killed_member_catches_up(self):
        self.wait_links()
        welsh = self.herd["Welsh"]
        welsh.ask(b"IAMAT before +1+1 1\n")
        self.wait_converged(want=1)
        welsh.kill()
        # The others keep serving and flooding while Welsh is down.
        c = self.herd["Hands"].connect()
        replies = iamats(c, [b"IAMAT while-%d +2+2 %d" % (i, i)
                             for i in range(200)])
        self.assertTrue(all(r.startswith(b"AT Hands ") for r in replies))
        self.wait_converged(["Goloman", "Hands", "Holiday", "Wilkes"],
                            want=201)
        welsh.start()
        self.wait_converged(want=201)
        self.assertIn("link up", welsh.log())

    def test_partition_heals_to_newest(self):
        """Holiday joins Welsh to the rest: stop it, update the same
        clients on both sides, start it, and all agree on the newest."""
        self.wait_links()
        holiday = self.herd["Holiday"]
        holiday.stop()
        welsh, hands = self.herd["Welsh"], self.herd["Hands"]
        # a: newer in Welsh's half; b: newer in the other; c: only one side.
        welsh.ask(b"IAMAT a +1+1 20\nIAMAT b +1+1 10\nIAMAT c +1+1 5\n")
        hands.ask(b"IAMAT a +2+2 10\nIAMAT b +2+2 20\nIAMAT d +2+2 5\n")
        self.wait_converged(["Goloman", "Hands", "Wilkes"], want=3)
        holiday.start()
        rows = self.wait_converged(want=4)
        got = {r.split("|")[0]: r.split("|") for r in rows.splitlines()}
        self.assertEqual(got["a"][1:], ["Welsh", got["a"][2], "+1+1", "20"])
        self.assertEqual(got["b"][1:], ["Hands", got["b"][2], "+2+2", "20"])
        self.assertEqual(got["c"][1], "Welsh")
        self.assertEqual(got["d"][1], "Hands")

    def test_new_database_behind_a_name_gets_everything(self):
        """A member restarted on an empty database (its old one lost) is
        sent everything again, its own old updates included."""
        self.wait_links()
        wilkes = self.herd["Wilkes"]
        wilkes.ask(b"IAMAT mine +1+1 1\n")
        self.herd["Welsh"].ask(b"IAMAT theirs +1+1 1\n")
        self.wait_converged(want=2)
        wilkes.stop()
        os.unlink(wilkes.db)
        wilkes.start(args=("-n",))      # empty on purpose
        self.wait_converged(want=2)
        self.herd["Goloman"].wait_log(r"its database is new")


class Chaos(HerdCase):
    """Members killed with SIGKILL again and again, and the whole herd at
    once, while clients keep sending: every update that got its AT line
    ends up in every member's database."""
    names = EXAMPLE
    links = EXAMPLE_LINKS

    def test_acknowledged_updates_survive_kills(self):
        self.wait_links()
        acked = set()
        lock = threading.Lock()
        stop = threading.Event()

        def client(name):
            port = self.herd.ports[name]
            i = 0
            conn = None
            while not stop.is_set():
                try:
                    if conn is None:
                        conn = Conn(("127.0.0.1", port), 5)
                    cid = b"%s-%d" % (name.encode(), i)
                    conn.send(b"IAMAT %s +1+1 %d\n" % (cid, i))
                    if conn.read_line().startswith(b"AT "):
                        with lock:
                            acked.add(cid.decode())
                    i += 1
                except (OSError, EOFError):
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.05)
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=client, args=(n,))
                   for n in EXAMPLE]
        for t in threads:
            t.start()
        try:
            rng = random.Random(6)
            for round in range(12):
                time.sleep(0.3)
                victims = (EXAMPLE if round == 6 else
                           [rng.choice(EXAMPLE)])
                for n in victims:
                    self.herd[n].kill()
                time.sleep(0.2)
                for n in victims:
                    self.herd[n].start()
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreater(len(acked), 100)
        self.wait_links(timeout=60)
        for n in EXAMPLE:
            m = self.herd[n]
            wait_for(lambda: int(m.sqlite(
                "select count(*) from locations").strip()) >= len(acked),
                60, "%s to hold every acknowledged update" % n)
            have = set(m.sqlite("select client_id from locations")
                       .split())
            self.assertEqual(acked - have, set(), n)


class TieBreak(HerdCase):
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)

    def test_same_time_two_members(self):
        """Equal client times: the greater origin name wins everywhere."""
        self.wait_links()
        self.herd["Beta"].stop()
        a = self.herd["Alpha"].ask(b"IAMAT tie +1+1 1520000000.5\n")
        self.herd["Beta"].start()
        self.wait_links()
        self.herd["Alpha"].stop()
        b = self.herd["Beta"].ask(b"IAMAT tie +2+2 1520000000.50\n")
        self.herd["Alpha"].start()
        rows = self.wait_converged(want=1)
        self.assertTrue(rows.startswith("tie|Beta|"), rows)
        self.assertEqual(self.whatsat_at("Alpha", b"tie"), b)
        self.assertNotEqual(a, b)


class HandPeer(HerdCase):
    """Alpha is a real member; its peers are played by the test, which
    speaks the peer protocol by hand with the herd key.  Links are plain
    here (peer_tls no), so that Python can speak them; test_tls.py has
    the same handshake inside TLS."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False
    extra = HerdCase.extra + "peer_tls no\n"

    def setUp(self):
        super().setUp()
        # The peers are played by this test; Alpha is the real member.
        self.herd["Alpha"].start()
        with open(os.path.join(self.herd.dir, "var", "herd.key"), "rb") as f:
            self.key = f.read()

    def mac(self, key, role, hs):
        msg = "herd/2 %s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n" % (
            role, hs["dialer"], hs["listener"], hs["dn"], hs["ln"],
            hs["ddb"], hs["ldb"], hs.get("binding", "-"))
        return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()

    def hello(self, c, nonce="ab" * 32, db="cd" * 16, name="Beta"):
        c.send(b"HELLO herd/2 %s Alpha %s %s\n" % (name.encode(),
                                                    nonce.encode(),
                                                    db.encode()))
        line = c.read_line()
        parts = line.split()
        self.assertEqual(parts[0], b"CHALLENGE", line)
        hs = {"dialer": name, "listener": "Alpha", "dn": nonce,
              "ln": parts[1].decode(), "ddb": db, "ldb": parts[2].decode()}
        self.assertEqual(parts[3].decode(),
                         self.mac(self.key, "listener", hs))
        return hs

    def link_as(self, name="Beta"):
        """A link up with Alpha, dialled as peer name.  Alpha redials the
        peers this test plays, whose ports nobody listens on; a HELLO that
        comes while such a dial is connecting is refused (both dialled at
        once, and Alpha's name sorts first), so that one is sent again."""
        for _ in range(50):
            c = self.herd["Alpha"].connect()
            c.send(b"HELLO herd/2 %s Alpha %s %s\n" % (
                name.encode(), b"ab" * 32, b"cd" * 16))
            line = c.read_line()
            if not line.startswith(b"? HELLO"):
                break
            c.close()
            time.sleep(0.05)
        parts = line.split()
        self.assertEqual(parts[0], b"CHALLENGE", line)
        hs = {"dialer": name, "listener": "Alpha", "dn": "ab" * 32,
              "ln": parts[1].decode(), "ddb": "cd" * 16,
              "ldb": parts[2].decode()}
        self.assertEqual(parts[3].decode(),
                         self.mac(self.key, "listener", hs))
        c.send(b"AUTH %s\n" % self.mac(self.key, "dialer", hs).encode())
        self.assertEqual(c.read_line(), b"READY\n")
        return c

    def next_line(self, c):
        """The next line that is not a keepalive."""
        line = c.read_line()
        while line == b"PING\n":
            line = c.read_line()
        return line

    def rows(self):
        return self.herd["Alpha"].sqlite(ROWS)


class Security(HandPeer):
    """Only a member that proves the herd key changes anything."""

    def test_handshake_then_update_and_ack(self):
        """The protocol as the manual describes it, spoken by hand."""
        c = self.link_as("Beta")
        c.send(b"UPD 7 viahand Beta +1.000000000 +1+1 5\n")
        self.assertEqual(c.read_line(), b"ACK 7\n")
        self.assertEqual(self.rows(),
                         "viahand|Beta|+1.000000000|+1+1|5\n")
        # The update is not sent back to the peer it came from.
        c.send(b"PING\n")
        self.herd["Alpha"].ask(b"IAMAT local +2+2 6\n")
        line = self.next_line(c)
        self.assertRegex(line, rb"^UPD \d+ local Alpha \+\S+ \+2\+2 6\n$")

    def test_forged_at_and_upd_from_a_client(self):
        m = self.herd["Alpha"]
        self.assertEqual(
            m.ask(b"AT Beta +1.000000000 x +1+1 5\n"
                  b"UPD 1 x Beta +1.000000000 +1+1 5\nACK 3\nREADY\n"),
            b"? AT Beta +1.000000000 x +1+1 5\n"
            b"? UPD 1 x Beta +1.000000000 +1+1 5\n? ACK 3\n? READY\n")
        self.assertEqual(self.rows(), "")

    def test_wrong_key(self):
        c = self.herd["Alpha"].connect()
        hs = self.hello(c)
        bad = self.mac(b"not the herd key", "dialer", hs)
        c.send(b"AUTH %s\nUPD 1 x Beta +1.000000000 +1+1 5\n" % bad.encode())
        self.assertEqual(c.read_line(), b"? AUTH %s\n" % bad.encode())
        self.assertEqual(c.read_line(),
                         b"? UPD 1 x Beta +1.000000000 +1+1 5\n")
        self.assertEqual(self.rows(), "")
        self.assertIn("proof does not match the herd key",
                      self.herd["Alpha"].log())

    def test_replayed_handshake(self):
        c = self.herd["Alpha"].connect()
        hs = self.hello(c)
        auth = b"AUTH %s\n" % self.mac(self.key, "dialer", hs).encode()
        c.send(auth)
        self.assertEqual(c.read_line(), b"READY\n")
        c.close()
        # The same HELLO and AUTH again: Alpha's nonce is new, so the
        # recorded proof no longer matches.
        d = self.herd["Alpha"].connect()
        self.hello(d)
        d.send(auth + b"UPD 1 x Beta +1.000000000 +1+1 5\n")
        self.assertEqual(d.read_line(), b"? " + auth)
        self.assertEqual(d.read_line(),
                         b"? UPD 1 x Beta +1.000000000 +1+1 5\n")
        self.assertEqual(self.rows(), "")

    def test_refused_hellos(self):
        m = self.herd["Alpha"]
        n, db = "ab" * 32, "cd" * 16
        for line in (b"HELLO herd/2 Gamma Alpha %s %s" % (n.encode(),
                                                          db.encode()),
                     b"HELLO herd/2 Beta Delta %s %s" % (n.encode(),
                                                         db.encode()),
                     b"HELLO herd/3 Beta Alpha %s %s" % (n.encode(),
                                                         db.encode()),
                     b"HELLO herd/2 Beta Alpha short %s" % db.encode(),
                     b"AUTH " + b"00" * 32):
            with self.subTest(line=line):
                self.assertEqual(m.ask(line + b"\n"), b"? " + line + b"\n")
        # HELLO must open the connection.
        self.assertEqual(
            m.ask(b"YOLO\nHELLO herd/2 Beta Alpha %s %s\n" %
                  (n.encode(), db.encode())),
            b"? YOLO\n? HELLO herd/2 Beta Alpha %s %s\n" %
            (n.encode(), db.encode()))
        self.assertEqual(self.rows(), "")

    def test_member_with_another_key(self):
        """A real Beta with its own key file never gets a link up."""
        other = os.path.join(self.herd.dir, "other.conf")
        with open(self.herd.conf) as f:
            text = f.read()
        with open(other, "w") as f:
            f.write(text + "herd_key_file other.key\n")
        beta = self.herd["Beta"]
        beta.start(conf=other)
        beta.ask(b"IAMAT secret +1+1 5\n")
        wait_for(lambda: "wrong herd key" in beta.log() and
                 "proof does not match" in self.herd["Alpha"].log(), 30,
                 "both sides to refuse")
        self.assertEqual(self.rows(), "")
        self.assertNotIn("link up", beta.log() + self.herd["Alpha"].log())


class LinkRules(HandPeer):
    """What a link must refuse or drop, spoken by hand to a real Alpha."""

    def test_repeated_change_number_ignored(self):
        """Numbers on a link only go up: a second UPD 7 is not stored."""
        c = self.link_as("Beta")
        c.send(b"UPD 7 first Beta +1.000000000 +1+1 5\n"
               b"UPD 7 again Beta +1.000000000 +2+2 5\n"
               b"UPD 8 third Beta +1.000000000 +3+3 5\n")
        acks = []
        while not acks or acks[-1] != b"ACK 8\n":
            acks.append(self.next_line(c))
        self.assertEqual([a for a in acks if not a.startswith(b"ACK ")],
                         [], acks)
        self.assertEqual(self.rows(),
                         "first|Beta|+1.000000000|+1+1|5\n"
                         "third|Beta|+1.000000000|+3+3|5\n")
        self.herd["Alpha"].wait_log(r"peer Beta: update without a new "
                                    r"number ignored")

    def test_auth_must_be_the_second_line(self):
        """HELLO, a junk line, then a valid AUTH: refused, no link."""
        c = self.herd["Alpha"].connect()
        hs = self.hello(c)
        c.send(b"JUNK\n")
        self.assertEqual(c.read_line(), b"? JUNK\n")
        auth = b"AUTH %s\n" % self.mac(self.key, "dialer", hs).encode()
        c.send(auth + b"UPD 1 x Beta +1.000000000 +1+1 5\n")
        self.assertEqual(c.read_line(), b"? " + auth)
        self.assertEqual(c.read_line(),
                         b"? UPD 1 x Beta +1.000000000 +1+1 5\n")
        self.assertEqual(self.rows(), "")
        self.assertNotIn("link up", self.herd["Alpha"].log())

    def test_no_ack_for_updates_not_committed(self):
        """While another writer holds Alpha's database, a peer's update
        cannot commit: no ACK for it, and the link drops saying why."""
        m = self.herd["Alpha"]
        c = self.link_as("Beta")
        shell = subprocess.Popen(["sqlite3", m.db], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            # Alpha saves its peers table now and then: wait for the lock
            # (and say nothing more if it cannot be had).
            shell.stdin.write(".bail on\n.timeout 20000\nBEGIN IMMEDIATE;\n"
                              "SELECT 'locked';\n")
            shell.stdin.flush()
            self.assertEqual(shell.stdout.readline().strip(), "locked")
            c.send(b"UPD 7 lost Beta +1.000000000 +1+1 5\n")
            # Everything Alpha sends until it closes the link (a PING a
            # second meanwhile), so that an ACK fails the test at once.
            got = []
            while True:
                try:
                    line = c.read_line()
                except EOFError:
                    break
                self.assertFalse(line.startswith(b"ACK"), got + [line])
                got.append(line)
        finally:
            shell.stdin.write("ROLLBACK;\n.quit\n")
            shell.stdin.close()
            shell.wait(10)
            shell.stdout.close()
        m.wait_log(r"peer Beta: link down \(its updates did not commit\)")
        self.assertEqual(self.rows(), "")


class DialRace(HandPeer):
    """Beta is the real member and Alpha, whose name sorts first, is
    played by the test: a listener that takes Beta's dial and stalls it,
    and a stranger's HELLO as Alpha at Beta."""
    start = False

    def setUp(self):
        HerdCase.setUp(self)        # not HandPeer's: Alpha is not real
        self.listener = socket.socket()
        self.addCleanup(self.listener.close)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.herd.ports["Alpha"]))
        self.listener.listen(8)
        self.listener.settimeout(30)
        self.herd["Beta"].start()
        with open(os.path.join(self.herd.dir, "var", "herd.key"), "rb") as f:
            self.key = f.read()

    def test_unproven_hello_keeps_our_dial(self):
        """Only a dial that proved the key may take the place of ours: a
        HELLO alone leaves Beta's dial to Alpha to finish its handshake."""
        beta = self.herd["Beta"]
        dial, _ = self.listener.accept()
        self.addCleanup(dial.close)
        dial.settimeout(30)
        d = Conn.__new__(Conn)
        d.sock, d.buf = dial, b""
        hello = d.read_line().split()
        self.assertEqual(hello[:4], [b"HELLO", b"herd/2", b"Beta", b"Alpha"])
        # While the dial stalls here, a HELLO as Alpha that never proves
        # itself: Beta answers it, and must keep its own dial.
        c = beta.connect()
        c.send(b"HELLO herd/2 Alpha Beta %s %s\n" % (b"ab" * 32, b"cd" * 16))
        self.assertTrue(c.read_line().startswith(b"CHALLENGE "))
        # The dial goes on: Alpha's CHALLENGE gets Beta's AUTH, and READY
        # makes it the link.
        hs = {"dialer": "Beta", "listener": "Alpha",
              "dn": hello[4].decode(), "ln": "ef" * 32,
              "ddb": hello[5].decode(), "ldb": "01" * 16}
        d.send(b"CHALLENGE %s %s %s\n" % (
            hs["ln"].encode(), hs["ldb"].encode(),
            self.mac(self.key, "listener", hs).encode()))
        self.assertEqual(d.read_line(), b"AUTH %s\n" %
                         self.mac(self.key, "dialer", hs).encode())
        d.send(b"READY\n")
        beta.wait_log(r"peer Alpha: link up \(dialled\)")
        c.close()


class PassOn(HandPeer):
    """An update from its origin is passed on before the commit, as FWD,
    once; Alpha is real, Beta and Gamma are played by the test."""
    names = ("Alpha", "Beta", "Gamma")
    links = (("Alpha", "Beta"), ("Alpha", "Gamma"))

    def test_first_hop_passes_on_then_sends_committed(self):
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        beta.send(b"UPD 7 quick Beta +1.000000000 +1+1 5\n")
        self.assertEqual(self.next_line(gamma),
                         b"FWD quick Beta +1.000000000 +1+1 5\n")
        # The same update again, numbered, once Alpha has committed it.
        self.assertRegex(self.next_line(gamma),
                         rb"^UPD \d+ quick Beta \+1.000000000 \+1\+1 5\n$")
        self.assertEqual(self.next_line(beta), b"ACK 7\n")
        self.assertEqual(self.rows(), "quick|Beta|+1.000000000|+1+1|5\n")

    def test_only_from_the_origin(self):
        """An UPD relayed by a peer that is not its origin waits for the
        commit: Gamma gets it numbered, never as FWD."""
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        beta.send(b"UPD 8 relayed Delta +1.000000000 +1+1 5\n")
        self.assertRegex(self.next_line(gamma),
                         rb"^UPD \d+ relayed Delta \+1.000000000 \+1\+1 5\n$")

    def test_not_while_busy(self):
        """A burst from the origin: once 64 have come faster than 6,400
        a second, the rest go numbered after the commit, not as FWD."""
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        beta.send(b"".join(b"UPD %d burst%d Beta +1.000000000 +1+1 5\n" %
                           (i, i) for i in range(1, 301)))
        fwd = upd = 0
        while upd < 300:
            line = self.next_line(gamma)
            if line.startswith(b"FWD "):
                fwd += 1
            elif line.startswith(b"UPD "):
                upd += 1
        self.assertGreaterEqual(fwd, 1)
        # 64 if Alpha reads the burst at once; time between two reads of
        # it lets a few more through, never all 300.
        self.assertLessEqual(fwd, 128)

    def test_forwarded_is_kept_not_acked_not_passed_on(self):
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        # Passed on by Gamma: Alpha keeps both, acknowledges nothing and
        # passes neither on.  Beta gets fwd2 as a numbered UPD after the
        # commit, and not fwd1, whose origin it is.
        gamma.send(b"FWD fwd1 Beta +1.000000000 +1+1 5\n"
                   b"FWD fwd2 Delta +1.000000000 +2+2 6\n")
        wait_for(lambda: self.rows().count("\n") == 2, 30, "two rows")
        self.assertEqual(self.rows(),
                         "fwd1|Beta|+1.000000000|+1+1|5\n"
                         "fwd2|Delta|+1.000000000|+2+2|6\n")
        self.assertRegex(self.next_line(beta),
                         rb"^UPD \d+ fwd2 Delta \+1.000000000 \+2\+2 6\n$")
        gamma.send(b"PING\n")
        beta.send(b"PING\n")
        time.sleep(0.3)
        self.assertNotIn(b"ACK", gamma.read_available())
        self.assertEqual(beta.read_available().replace(b"PING\n", b""), b"")
        # An older FWD changes nothing.
        gamma.send(b"FWD fwd2 Delta +1.000000000 +3+3 4\n")
        gamma.send(b"FWD fwd2 Delta +1.000000000 +3+3 bad\n")
        wait_for(lambda: "bad update ignored (bad client time)" in
                 self.herd["Alpha"].log(), 30, "the bad FWD logged")
        self.assertIn("fwd2|Delta|+1.000000000|+2+2|6", self.rows())
        self.assertEqual(self.herd["Alpha"].sqlite(
            "select state from peers where name = 'Gamma'"), "up\n")


class BigGraph(HerdCase):
    """Twelve members in a ring with chords: every update reaches every
    member and is applied exactly once at each."""
    names = tuple("M%02d" % i for i in range(12))
    links = tuple(("M%02d" % i, "M%02d" % ((i + 1) % 12)) for i in range(12)) \
        + tuple(("M%02d" % i, "M%02d" % ((i + 5) % 12)) for i in range(0, 12, 3))
    per_member = 20

    def test_converges_and_applies_once(self):
        self.wait_links()
        for n in self.names:
            c = self.herd[n].connect()
            iamats(c, [b"IAMAT %s-%d +1+1 %d" % (n.encode(), i, i)
                       for i in range(self.per_member)])
            c.close()
        total = len(self.names) * self.per_member
        self.wait_converged(want=total, timeout=120)
        for n in self.names:
            m = self.herd[n]
            # Counters are saved within a second or so.
            wait_for(lambda: m.sqlite("select sum(applied) from peers")
                     .strip() == str(total - self.per_member), 15,
                     "%s's applied count" % n)


class OneShotHerd(HerdCase):
    """close_after_reply is for clients: with it set, the links still come
    up (a peer's HELLO is not a client's command) and updates flood, two
    hops here, while a one-shot client gets its reply and the close."""
    names = ("Alpha", "Beta", "Gamma")
    links = (("Alpha", "Beta"), ("Beta", "Gamma"))
    extra = HerdCase.extra + "close_after_reply yes\n"

    def one_shot(self, name, data):
        """Send data without closing; return all the member sends before
        it closes."""
        c = self.herd[name].connect()
        c.send(data)
        return c.read_all()

    def test_links_and_floods(self):
        self.wait_links(timeout=30)
        reply = self.one_shot("Alpha", b"IAMAT kiwi +34-118 1520023934.5\n"
                                       b"IAMAT second +1+1 5\n")
        self.assertRegex(reply, rb"^AT Alpha \S+ kiwi \+34-118 "
                                rb"1520023934.5\n$")
        rows = self.wait_converged(want=1, timeout=30)
        self.assertIn("kiwi|Alpha|", rows)
        at = self.one_shot("Gamma", b"WHATSAT kiwi 10 0\n")
        self.assertEqual(at.split(b"\n")[0] + b"\n", reply)
        # The links stayed up through it all: each came up once.
        for n in self.names:
            self.assertEqual(self.herd[n].log().count("link up"),
                             len([l for l in self.links if n in l]), n)


class OneShotHandshake(HandPeer):
    """close_after_reply spares the handshake's HELLO only: the line
    after it is AUTH, or the connection is a one-shot client's again."""
    extra = HandPeer.extra + "close_after_reply yes\n"

    def test_link_by_hand(self):
        c = self.link_as("Beta")
        c.send(b"UPD 1 viahand Beta +1.000000000 +1+1 5\n")
        self.assertEqual(c.read_line(), b"ACK 1\n")
        self.assertEqual(self.rows(), "viahand|Beta|+1.000000000|+1+1|5\n")

    def test_hello_then_a_command_closes(self):
        c = self.herd["Alpha"].connect()
        self.hello(c)
        c.send(b"IAMAT a +1+1 5\nIAMAT b +1+1 6\n")
        self.assertRegex(c.read_all(), rb"^AT Alpha \S+ a \+1\+1 5\n$")
        self.assertEqual(self.herd["Alpha"].sqlite(
            "select client_id from locations"), "a\n")


class PeerClientTime(HerdCase):
    """max_client_skew is checked where the IAMAT arrives, not again at
    the members it floods to: Beta, whose cap is a minute (as if its clock
    were behind), stores what Alpha took an hour ahead."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def test_origin_decides(self):
        tight = os.path.join(self.herd.dir, "tight.conf")
        with open(self.herd.conf) as f:
            text = f.read()
        with open(tight, "w") as f:
            f.write(text + "max_client_skew 60\n")
        self.herd["Alpha"].start()
        self.herd["Beta"].start(conf=tight)
        self.wait_links()
        ahead = b"IAMAT early +1+1 %.3f" % (time.time() + 3600)
        self.assertEqual(self.herd["Beta"].ask(ahead + b"\n"),
                         b"? " + ahead + b"\n")
        reply = self.herd["Alpha"].ask(ahead + b"\n")
        self.assertRegex(reply, rb"^AT Alpha ")
        self.wait_converged(want=1, timeout=30)
        self.assertEqual(self.whatsat_at("Beta", b"early"), reply)


class SlowPeer(HerdCase):
    """A peer that stops reading costs the sender no memory, and catches
    up when it reads again."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    # Long enough that the link stays up while Beta is stopped: what
    # bounds memory here is the sender, not the timeout.
    extra = HerdCase.extra + "peer_timeout 60\n"
    # AddressSanitizer holds freed memory in quarantine (256 MB by
    # default), which would hide what the member itself keeps.
    env = {"ASAN_OPTIONS": "quarantine_size_mb=1"}
    updates = 100000

    def rss_kb(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def load(self, first, count, conns=4):
        """count IAMATs with long client ids at Alpha, over conns
        pipelined connections; wait for every reply."""
        def run(k):
            c = Conn(("127.0.0.1", self.herd.ports["Alpha"]), 120)
            ids = range(first + k, first + count, conns)
            pad = b"x" * 200
            for chunk in range(0, len(ids), 2000):
                part = ids[chunk:chunk + 2000]
                c.send(b"".join(b"IAMAT %s%d +1+1 5\n" % (pad, i)
                                for i in part))
                for _ in part:
                    c.read_line()
            c.close()
        threads = [threading.Thread(target=run, args=(k,))
                   for k in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def test_sigstop_peer(self):
        self.wait_links()
        alpha, beta = self.herd["Alpha"], self.herd["Beta"]
        beta.proc.send_signal(signal.SIGSTOP)
        try:
            self.load(0, 10000)
            base = self.rss_kb(alpha.proc.pid)
            self.load(10000, self.updates - 10000)
            grown = self.rss_kb(alpha.proc.pid) - base
        finally:
            beta.proc.send_signal(signal.SIGCONT)
        # 90 000 updates of ~250 bytes would be over 22 MB if queued.
        self.assertLess(grown, 12 * 1024, "sender grew by %d kB" % grown)
        wait_for(lambda: beta.sqlite("select count(*) from locations")
                 .strip() == str(self.updates), 120, "Beta to catch up")
        self.assertNotIn("link down", alpha.log())

    def test_backlog_read_as_fast_as_committed(self):
        """A member that comes back to a backlog reads its peer only as
        fast as it commits: it never holds the backlog in memory."""
        backlog = 200000
        self.wait_links()
        alpha, beta = self.herd["Alpha"], self.herd["Beta"]
        beta.stop()
        c = Conn(("127.0.0.1", self.herd.ports["Alpha"]), 120)
        for first in range(0, backlog, 10000):
            iamats(c, [b"IAMAT b%d +1+1 5" % i
                       for i in range(first, first + 10000)])
        c.close()
        # Beta idle, with Alpha away, then Alpha back with it all.
        alpha.stop()
        beta.start()
        time.sleep(0.5)
        base = self.rss_kb(beta.proc.pid)
        alpha.start()
        peak = base
        count = lambda: beta.sqlite("select count(*) from locations").strip()
        deadline = time.monotonic() + 120
        while count() != str(backlog):
            self.assertLess(time.monotonic(), deadline, "Beta to catch up")
            peak = max(peak, self.rss_kb(beta.proc.pid))
            time.sleep(0.02)
        # Held in memory, 200 000 updates would be about 70 MB; read at
        # the speed of commits, some thousands wait at a time (about 20
        # MB, 35 MB with AddressSanitizer).
        self.assertLess(peak - base, 48 * 1024,
                        "Beta grew by %d kB while catching up" % (peak - base))


class StoppedPeer(HerdCase):
    """A peer that reads nothing for peer_timeout is cut off, and the
    link comes back when it reads again."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    extra = HerdCase.extra + "peer_timeout 1\n"

    def test_cut_off_and_back(self):
        self.wait_links()
        alpha, beta = self.herd["Alpha"], self.herd["Beta"]
        beta.proc.send_signal(signal.SIGSTOP)
        try:
            alpha.ask(b"IAMAT during +1+1 5\n")
            wait_for(lambda: re.search(
                r"peer Beta: link down \((nothing heard|the peer stopped "
                r"reading) for peer_timeout", alpha.log()), 30,
                "Alpha to cut Beta off")
        finally:
            beta.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: beta.sqlite("select count(*) from locations")
                 .strip() == "1", 60, "Beta to catch up")


class Erasure(HerdCase):
    """forget on a member's control socket: the erasure reaches every
    member, over downtime and partitions, and what it erased stays
    erased."""
    names = EXAMPLE
    links = EXAMPLE_LINKS

    def iamat(self, name, client, location=b"+1+1"):
        """An IAMAT at member name, with the client's time now."""
        at = self.herd[name].ask(b"IAMAT %s %s %.9f\n" %
                                 (client, location, time.time()))
        self.assertRegex(at, rb"^AT %s " % name.encode())
        return at

    def forget(self, name, *clients):
        """forget clients at member name; returns the erasure time."""
        reply = self.herd[name].admin("forget " + " ".join(clients))[0]
        self.assertEqual(reply[-1], "ok", reply)
        times = {l.split()[0]: l.split()[1] for l in reply[:-1]}
        self.assertEqual(sorted(times), sorted(clients))
        return times[clients[0]]

    def wait_erased(self, client, at, names=EXAMPLE):
        """Wait until each member holds the erasure and no row."""
        for n in names:
            m = self.herd[n]
            wait_for(lambda: m.sqlite(
                "select erased_at from forgotten where client_id = '%s'"
                % client) == at + "\n" and m.sqlite(
                "select count(*) from locations where client_id = '%s'"
                % client) == "0\n", 60, "%s to erase %s" % (n, client))

    def assert_unknown(self, client, names=EXAMPLE):
        for n in names:
            self.assertEqual(self.herd[n].ask(b"WHATSAT %s 10 0\n" % client),
                             b"? WHATSAT %s 10 0\n" % client, n)

    def test_erasure_reaches_all_and_a_newer_iamat_is_kept(self):
        self.wait_links()
        self.iamat("Hands", b"gone")
        self.iamat("Welsh", b"stays")
        self.wait_converged(want=2)
        at = self.forget("Welsh", "gone")
        self.assertRegex(at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        self.wait_erased("gone", at)
        self.assert_unknown(b"gone")
        for n in EXAMPLE:
            self.assertIn("stays|Welsh|", self.rows(n))
            # The origin and the change number travel with it.
            self.assertEqual(self.herd[n].sqlite(
                "select origin from forgotten"), "Welsh\n")
        # Logged once, where it was taken, with who asked; no location.
        self.herd["Welsh"].wait_log(
            r"erased client gone at %s, asked by uid %d pid \d+" %
            (re.escape(at), os.getuid()))
        for n in EXAMPLE:
            self.assertEqual(n == "Welsh", "erased client" in
                             self.herd[n].log(), n)
        # A new IAMAT after the erasure starts a new record, everywhere.
        line = self.iamat("Holiday", b"gone", b"+2+2")
        for n in EXAMPLE:
            wait_for(lambda: self.whatsat_at(n, b"gone") == line, 30,
                     "%s to know gone again" % n)

    def test_member_down_during_erasure_gets_it(self):
        self.wait_links()
        self.iamat("Wilkes", b"x")
        self.wait_converged(want=1)
        welsh = self.herd["Welsh"]
        welsh.kill()
        at = self.forget("Goloman", "x")
        self.wait_erased("x", at, [n for n in EXAMPLE if n != "Welsh"])
        self.assertIn("x|Wilkes|", self.rows("Welsh"))
        welsh.start()
        self.wait_erased("x", at)
        self.assert_unknown(b"x")

    def test_partitioned_older_update_does_not_come_back(self):
        """Welsh, cut off (Holiday, its only link, stopped), takes a newer
        IAMAT of the client before the erasure at Hands: when the
        partition heals, that update must not bring the client back."""
        self.wait_links()
        self.iamat("Goloman", b"p")
        self.wait_converged(want=1)
        holiday = self.herd["Holiday"]
        holiday.stop()
        self.iamat("Welsh", b"p", b"+3+3")
        at = self.forget("Hands", "p")
        self.wait_erased("p", at, ["Goloman", "Hands", "Wilkes"])
        holiday.start()
        self.wait_erased("p", at)
        self.wait_links()
        # A later update of Welsh's goes after its p in change order: once
        # every member has it, each has been sent p too, and held it back.
        self.herd["Welsh"].ask(b"IAMAT other +1+1 %.9f\n" % time.time())
        self.wait_converged(want=1)
        self.assert_unknown(b"p")

    def test_sigkill_right_after_forget_keeps_it(self):
        self.wait_links()
        self.iamat("Hands", b"k")
        self.wait_converged(want=1)
        goloman = self.herd["Goloman"]
        at = self.forget("Goloman", "k")
        goloman.kill()
        self.assertEqual(goloman.sqlite(
            "select erased_at from forgotten where client_id = 'k'"),
            at + "\n")
        self.assertEqual(goloman.sqlite("select count(*) from locations"),
                         "0\n")
        goloman.start()
        self.wait_erased("k", at)

    def test_bad_requests_change_nothing(self):
        self.wait_links()
        self.iamat("Hands", b"a")
        self.wait_converged(want=1)
        m = self.herd["Hands"]
        reply = m.admin("forget", "forget a " + "z" * 256)
        self.assertEqual(reply[0], ["error forget: wrong number of "
                                    "arguments"])
        self.assertRegex(reply[1][0], r"^error forget: 'z+' is not a "
                         r"client id .*nothing was erased$")
        self.assertEqual(m.sqlite("select count(*) from forgotten"), "0\n")
        self.assertIn("a|Hands|", self.rows("Hands"))
        # A client connection cannot ask for an erasure.
        self.assertEqual(m.ask(b"forget a\n"), b"? forget a\n")
        self.assertEqual(m.ask(b"ERASE 1 a Hands "
                               b"2026-01-01T00:00:00.000000000Z\n"),
                         b"? ERASE 1 a Hands 2026-01-01T00:00:00.000000000Z\n")
        self.assertIn("a|Hands|", self.rows("Hands"))


def utc(t):
    """POSIX time t as an erasure time: UTC with nine fractional digits."""
    sec = int(t)
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) +
            ".%09dZ" % int(round((t - sec) * 1e9))).encode()


class ErasePeer(HandPeer):
    """ERASE on a link, spoken by hand: Alpha is real, Beta and Gamma are
    played by the test."""
    names = ("Alpha", "Beta", "Gamma")
    links = (("Alpha", "Beta"), ("Alpha", "Gamma"))
    extra = HandPeer.extra + "location_ttl 1h\n"

    def quiet(self, c):
        """Nothing but keepalives arrives on c for a moment."""
        c.send(b"PING\n")
        self.assertEqual(c.read_available(0.5).replace(b"PING\n", b""), b"")

    def test_erase_stored_sent_on_and_holding_back(self):
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        now = time.time()
        beta.send(b"UPD 1 c Beta +0.500000000 +1+1 %.9f\n" % (now - 10))
        self.assertEqual(self.next_line(beta), b"ACK 1\n")
        self.assertRegex(self.next_line(gamma), rb"^(FWD|UPD \d+) c Beta ")
        at = utc(now - 5)
        beta.send(b"ERASE 2 c Beta %s\n" % at)
        self.assertEqual(self.next_line(beta), b"ACK 2\n")
        line = self.next_line(gamma)
        while line.startswith(b"UPD "):     # the first one, numbered
            line = self.next_line(gamma)
        self.assertRegex(line, rb"^ERASE \d+ c Beta %s\n$" % at)
        self.assertEqual(self.rows(), "")
        alpha = self.herd["Alpha"]
        self.assertEqual(alpha.sqlite("select client_id, erased_at, origin, "
                                      "via from forgotten"),
                         "c|%s|Beta|Beta\n" % at.decode())
        # Received no later than the erasure: acknowledged, not stored,
        # not passed on, from an UPD or a FWD alike.
        beta.send(b"UPD 3 c Beta +4.000000000 +2+2 %.9f\n" % (now - 9))
        self.assertEqual(self.next_line(beta), b"ACK 3\n")
        gamma.send(b"FWD c Beta +0.000000000 +2+2 %.9f\n" % (now - 6))
        # The same erasure again changes nothing and goes nowhere.
        gamma.send(b"ERASE 1 c Beta %s\n" % at)
        self.assertEqual(self.next_line(gamma), b"ACK 1\n")
        self.quiet(gamma)
        self.quiet(beta)
        self.assertEqual(self.rows(), "")
        # Received after it: a new record.
        beta.send(b"UPD 4 c Beta +0.000000000 +3+3 %.9f\n" % (now - 4))
        self.assertEqual(self.next_line(beta), b"ACK 4\n")
        self.assertIn(b" c Beta ", self.next_line(gamma))
        self.assertEqual(self.rows(), "c|Beta|+0.000000000|+3+3|%.9f\n"
                         % (now - 4))

    def test_stop_with_a_forget_pending(self):
        """A member stopped while an erasure waits for its commit finishes
        it first (it is committed, or not at all), and frees what it held
        for the request: the sanitizer's leak check runs at its exit."""
        alpha = self.herd["Alpha"]
        for i in range(20):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(alpha.admin_path)
                s.sendall(b"forget gone%d\n" % i)
        s = socket.socket(socket.AF_UNIX)
        s.connect(alpha.admin_path)
        s.sendall(b"forget last\nforgotten last\n")
        alpha.proc.send_signal(signal.SIGTERM)
        self.assertEqual(alpha.wait_exit(), 0)
        s.close()
        n = int(alpha.sqlite("select count(*) from forgotten"))
        self.assertLessEqual(n, 21)
        self.assertEqual(alpha.sqlite("select count(*) from locations"),
                         "0\n")
        self.assertIsNone(sanitizer_report(alpha.log()))

    def test_forget_that_does_not_commit(self):
        """Another process holds the database's write lock: the erasure
        fails, the operator is told, and nothing is erased."""
        alpha = self.herd["Alpha"]
        alpha.ask(b"IAMAT held +1+1 %.9f\n" % time.time())
        db = sqlite3.connect(alpha.db, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            reply = alpha.admin("forget held")[0]
            db.execute("ROLLBACK")
        finally:
            db.close()
        self.assertEqual(reply, ["error the erasure did not commit; "
                                 "nothing was erased"])
        alpha.wait_log(r"erasure asked by uid \d+ pid \d+ not committed")
        self.assertNotIn("erased client held", alpha.log())
        self.assertEqual(alpha.sqlite("select count(*) from forgotten"),
                         "0\n")
        self.assertIn("held|Alpha|", self.rows())
        # Once the lock is gone, it works.
        self.assertEqual(alpha.admin("forget held")[0][-1], "ok")
        self.assertEqual(self.rows(), "")

    def test_expired_and_bad_are_not_stored(self):
        beta, gamma = self.link_as("Beta"), self.link_as("Gamma")
        # Received two hours ago, with location_ttl 1h: expired.
        beta.send(b"UPD 1 old Beta +0.000000000 +1+1 %.9f\n" %
                  (time.time() - 7200))
        self.assertEqual(self.next_line(beta), b"ACK 1\n")
        for bad in (b"ERASE 2 c Beta 2026-13-01T00:00:00.000000000Z",
                    b"ERASE 3 c Beta 2026-01-01T00:00:00Z",
                    b"ERASE 4 c Beta",
                    b"ERASE 5 c Beta " + utc(time.time() + 2 * 86400)):
            beta.send(bad + b"\n")
        while self.next_line(beta) != b"ACK 5\n":
            pass
        self.quiet(gamma)
        self.assertEqual(self.rows(), "")
        alpha = self.herd["Alpha"]
        self.assertEqual(alpha.sqlite("select count(*) from forgotten"),
                         "0\n")
        alpha.wait_log(r"bad update skipped \(bad erasure time\)")
        alpha.wait_log(r"bad update skipped \(ERASE takes 4 arguments\)")
        alpha.wait_log(r"peer Beta: erasure of c by Beta dated \S+, more "
                       r"than a day ahead of this member's clock, ignored")


class Retention(HerdCase):
    """location_ttl: every member drops a location on its own once its
    origin received it longer ago than that."""
    names = EXAMPLE
    links = EXAMPLE_LINKS
    extra = HerdCase.extra + "location_ttl 3s\n"

    def test_expires_everywhere_and_whatsat_stops_at_once(self):
        self.wait_links()
        at = self.herd["Hands"].ask(b"IAMAT brief +1+1 %.9f\n" % time.time())
        received = time.time()
        self.wait_converged(want=1)
        for n in EXAMPLE:
            self.assertEqual(self.whatsat_at(n, b"brief"), at)
        # Past the ttl, no member answers, swept or not.
        time.sleep(max(0, received + 3.05 - time.time()))
        for n in EXAMPLE:
            self.assertEqual(self.herd[n].ask(b"WHATSAT brief 10 0\n"),
                             b"? WHATSAT brief 10 0\n", n)
        self.wait_empty()
        self.herd["Welsh"].wait_log(r"retention: 1 locations expired")


class RetentionBatches(HerdCase):
    """A backlog of expired rows goes in batches of at most 1000, one
    after the other, while the member goes on answering."""
    names = ("Alpha",)
    extra = "location_ttl 2s\n"

    def test_batches(self):
        alpha = self.herd["Alpha"]
        c = alpha.connect()
        replies = iamats(c, [b"IAMAT b%d +1+1 %.9f" % (i, time.time())
                             for i in range(2500)])
        self.assertTrue(all(r.startswith(b"AT Alpha ") for r in replies))
        wait_for(lambda: self.rows("Alpha") == "", 60, "the rows to go")
        swept = [int(n) for n in re.findall(
            r"retention: (\d+) locations expired", alpha.log())]
        self.assertEqual(sum(swept), 2500)
        self.assertLessEqual(max(swept), 1000)
        self.assertGreaterEqual(len(swept), 3)


class ForgetKeep(HerdCase):
    """Erasure records are dropped after forget_keep, by every member."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    extra = HerdCase.extra + "forget_keep 2s\n"

    def test_records_dropped(self):
        self.wait_links()
        self.assertEqual(self.herd["Alpha"].admin("forget x")[0][-1], "ok")
        for n in self.names:
            m = self.herd[n]
            wait_for(lambda: m.sqlite("select count(*) from forgotten") ==
                     "1\n", 30, "%s to hold the erasure" % n)
        for n in self.names:
            m = self.herd[n]
            wait_for(lambda: m.sqlite("select count(*) from forgotten") ==
                     "0\n", 30, "%s to drop it" % n)
            m.wait_log(r"retention: 0 locations expired, 1 erasure records "
                       r"dropped")


class RetentionReload(HerdCase):
    """A changed location_ttl is applied on SIGHUP, without a restart."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)

    def test_ttl_applied_on_reload(self):
        self.wait_links()
        self.herd["Alpha"].ask(b"IAMAT r +1+1 %.9f\n" % (time.time() - 60))
        self.wait_converged(want=1)
        pids = [self.herd[n].proc.pid for n in self.names]
        with open(self.herd.conf, "a") as f:
            f.write("location_ttl 30s\n")
        for n in self.names:
            self.herd[n].proc.send_signal(signal.SIGHUP)
        # The client's time is a minute old, but Alpha received it now.
        for n in self.names:
            self.herd[n].wait_log(r"location_ttl 30 s")
        self.assertEqual(self.whatsat_at("Beta", b"r")[:8], b"AT Alpha")
        with open(self.herd.conf, "a") as f:
            f.write("location_ttl 1s\n")
        for n in self.names:
            self.herd[n].proc.send_signal(signal.SIGHUP)
        self.wait_empty()
        self.assertEqual(pids, [self.herd[n].proc.pid for n in self.names])


if __name__ == "__main__":
    main()
