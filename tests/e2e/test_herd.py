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
import signal
import stat
import threading
import time

from herdtest import Conn, HerdTestCase, main

# The example herd of the README: the five CS 131 members and their links.
EXAMPLE = ("Goloman", "Hands", "Holiday", "Welsh", "Wilkes")
EXAMPLE_LINKS = (("Goloman", "Hands"), ("Goloman", "Holiday"),
                 ("Goloman", "Wilkes"), ("Hands", "Wilkes"),
                 ("Holiday", "Welsh"), ("Holiday", "Wilkes"))
ROWS = ("select client_id, server_id, time_diff, location, client_time "
        "from locations order by client_id")


def wait_for(cond, timeout=60, what="condition", interval=0.05):
    """Poll cond() until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" %
                                 (timeout, what))
        time.sleep(interval)


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
    speaks the peer protocol by hand with the herd key."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def setUp(self):
        super().setUp()
        # The peers are played by this test; Alpha is the real member.
        self.herd["Alpha"].start()
        with open(os.path.join(self.herd.dir, "var", "herd.key"), "rb") as f:
            self.key = f.read()

    def mac(self, key, role, hs):
        msg = "herd/1 %s\n%s\n%s\n%s\n%s\n%s\n%s\n" % (
            role, hs["dialer"], hs["listener"], hs["dn"], hs["ln"],
            hs["ddb"], hs["ldb"])
        return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()

    def hello(self, c, nonce="ab" * 32, db="cd" * 16, name="Beta"):
        c.send(b"HELLO herd/1 %s Alpha %s %s\n" % (name.encode(),
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
        """A link up with Alpha, dialled as peer name."""
        c = self.herd["Alpha"].connect()
        hs = self.hello(c, name=name)
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
        for line in (b"HELLO herd/1 Gamma Alpha %s %s" % (n.encode(),
                                                          db.encode()),
                     b"HELLO herd/1 Beta Delta %s %s" % (n.encode(),
                                                         db.encode()),
                     b"HELLO herd/2 Beta Alpha %s %s" % (n.encode(),
                                                         db.encode()),
                     b"HELLO herd/1 Beta Alpha short %s" % db.encode(),
                     b"AUTH " + b"00" * 32):
            with self.subTest(line=line):
                self.assertEqual(m.ask(line + b"\n"), b"? " + line + b"\n")
        # HELLO must open the connection.
        self.assertEqual(
            m.ask(b"YOLO\nHELLO herd/1 Beta Alpha %s %s\n" %
                  (n.encode(), db.encode())),
            b"? YOLO\n? HELLO herd/1 Beta Alpha %s %s\n" %
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
        """A burst from the origin: once 64 updates wait for the commit,
        the rest go numbered after it, not as FWD."""
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
        # 64 if Alpha reads the burst at once; a commit that ends between
        # two reads of it lets a few more through, never all 300.
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
    extra = HerdCase.extra + "close_after_reply yes\n"

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


if __name__ == "__main__":
    main()
