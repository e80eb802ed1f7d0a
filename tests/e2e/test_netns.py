"""A herd spread over hosts: network namespaces joined by a veth pair.

Each namespace stands for a machine with its own address (from
198.18.0.0/15, the benchmarking range): A1 and A2 listen on 198.18.0.1
in one, B1 and B2 on 198.18.0.2 in the other, linked in a ring (A1-A2,
A1-B1, B1-B2, A2-B2).  One topology file names all four; one supervisor
a namespace, started without member names, must pick its members by
address.  The veth is cut with `ip link set ... down`: both halves keep
taking updates and converge within themselves, and once it is up again
all four converge on the newest record of each client, with no new
IAMAT.

Needs root and iproute2 (`ip netns`); skipped otherwise.  The namespaces,
their veth pair and every process are removed whatever the outcome.
"""

import os
import shutil
import signal
import subprocess
import sys

from herdtest import SupervisedHerd, SupervisorTestCase, main, wait_for

HOSTS = {"A1": "198.18.0.1", "A2": "198.18.0.1",
         "B1": "198.18.0.2", "B2": "198.18.0.2"}
SIDE = {"A1": "a", "A2": "a", "B1": "b", "B2": "b"}
LINKS = (("A1", "A2"), ("A1", "B1"), ("B1", "B2"), ("A2", "B2"))
# A cut link is noticed within peer_timeout and redialled within
# peer_retry_max of coming back.
EXTRA = "peer_retry_max 0.5\npeer_timeout 2\n"

# Sends stdin to HOST PORT, half-closes, prints all of the reply.
CLIENT = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 10)
s.settimeout(10)
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while True:
    d = s.recv(65536)
    if not d:
        break
    sys.stdout.buffer.write(d)
"""


def ip(*args):
    """Run ip ARGS; the CompletedProcess (text)."""
    return subprocess.run(["ip", *args], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def must_ip(*args):
    out = ip(*args)
    if out.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), out.stderr))


class NetnsHerd(SupervisedHerd):
    """A supervised herd whose members listen on HOSTS' addresses."""

    def write_conf(self, names, links=(), extra=""):
        lines = ["member %s %s:%d" % (n, HOSTS[n], self.ports[n])
                 for n in names]
        lines += ["link %s %s" % l for l in links]
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")


class Netns(SupervisorTestCase):
    names = ("A1", "A2", "B1", "B2")
    links = LINKS
    extra = EXTRA

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (network namespaces)")
        if shutil.which("ip") is None:
            self.skipTest("needs iproute2 (the ip command)")
        pid = os.getpid()
        self.ns = {s: "herd-%d-%s" % (pid, s) for s in "ab"}
        self.veth = {s: "hv%d%s" % (pid, s) for s in "ab"}
        self.addr = {"a": "198.18.0.1", "b": "198.18.0.2"}
        for s in "ab":
            out = ip("netns", "add", self.ns[s])
            if out.returncode != 0:
                self.skipTest("ip netns add failed: %s" %
                              out.stderr.strip())
            # Runs after the herd's cleanup (last in, first out), so no
            # process of ours is left in it.
            self.addCleanup(ip, "netns", "delete", self.ns[s])
        # Deleting a namespace deletes the veth end in it, and so both.
        out = ip("-n", self.ns["a"], "link", "add", self.veth["a"], "type",
                 "veth", "peer", "name", self.veth["b"], "netns",
                 self.ns["b"])
        if out.returncode != 0:
            # A sandbox that lets namespaces be made but not used (a
            # chroot, say) is no place for this test.
            self.skipTest("cannot join the namespaces with a veth: %s" %
                          out.stderr.strip())
        for s in "ab":
            n = self.ns[s]
            must_ip("-n", n, "addr", "add", self.addr[s] + "/24", "dev",
                    self.veth[s])
            must_ip("-n", n, "link", "set", self.veth[s], "up")
            must_ip("-n", n, "link", "set", "lo", "up")
        self.herd = NetnsHerd(self.names, self.links, self.extra)
        self.addCleanup(self.herd.cleanup)
        self.run_dir = {s: os.path.join(self.herd.dir, "run-" + s)
                        for s in "ab"}

    def ask(self, name, data):
        """Send data to member name from inside its namespace; the reply."""
        out = subprocess.run(
            ["ip", "netns", "exec", self.ns[SIDE[name]], sys.executable,
             "-c", CLIENT, HOSTS[name], str(self.herd.ports[name])],
            input=data, capture_output=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError("client of %s: %s" % (name, out.stderr))
        return out.stdout

    def iamat(self, name, client, t):
        line = b"IAMAT %s +34.068930-118.445127 %s\n" % (
            client.encode(), t.encode())
        reply = self.ask(name, line)
        self.assertTrue(reply.startswith(b"AT %s " % name.encode()), reply)

    def records(self, name):
        """{client_id: "server_id|client_time"} from name's database."""
        rows = self.herd[name].sqlite(
            "select client_id, server_id, client_time from locations")
        return dict(r.split("|", 1) for r in rows.splitlines())

    def rows(self, name):
        return self.herd[name].sqlite(
            "select client_id, server_id, time_diff, location, client_time"
            " from locations order by client_id")

    def peer_states(self, name):
        rows = self.herd[name].sqlite("select name, state from peers")
        return dict(r.split("|") for r in rows.splitlines())

    def links_are(self, state, links):
        return all(self.peer_states(a).get(b) == state and
                   self.peer_states(b).get(a) == state for a, b in links)

    def wait_records(self, names, want, what):
        for name in names:
            wait_for(lambda: all(self.records(name).get(c) == v
                                 for c, v in want.items()), 30,
                     "%s: %s" % (name, what))

    def veth_a(self, state):
        must_ip("-n", self.ns["a"], "link", "set", self.veth["a"], state)

    def test_cut_and_heal(self):
        # One supervisor a namespace, no member named: each finds its own.
        for s in "ab":
            self.herd.ctl("-r", self.run_dir[s], "start", netns=self.ns[s],
                          check=0)
        for s, own in (("a", ["A1", "A2"]), ("b", ["B1", "B2"])):
            code, members = self.herd.status(run_dir=self.run_dir[s])
            self.assertEqual(code, 0)
            self.assertEqual(sorted(members), own)
            for name in own:
                self.assertEqual(members[name]["address"], "%s:%d" % (
                    HOSTS[name], self.herd.ports[name]))
        wait_for(lambda: self.links_are("up", LINKS), 30, "all links up")

        self.iamat("A1", "kiwi", "1520023934.5")
        self.wait_records(self.names, {"kiwi": "A1|1520023934.5"},
                          "kiwi from A1")

        # Cut: both ends notice within peer_timeout.
        across = (("A1", "B1"), ("A2", "B2"))
        self.veth_a("down")
        wait_for(lambda: self.links_are("down", across), 30,
                 "the links across the cut to go down")
        self.assertTrue(self.links_are("up", (("A1", "A2"), ("B1", "B2"))))

        # Both halves take updates: the same clients with other times,
        # and one client each that the other half has never seen.
        self.iamat("A1", "kiwi", "1520023935.0")
        self.iamat("B2", "kiwi", "1520023936.0")
        self.iamat("A2", "pear", "1520023939.0")
        self.iamat("B1", "pear", "1520023938.0")
        self.iamat("A2", "apple", "1520023937.0")
        self.iamat("B1", "plum", "1520023937.0")
        half_a = {"kiwi": "A1|1520023935.0", "pear": "A2|1520023939.0",
                  "apple": "A2|1520023937.0"}
        half_b = {"kiwi": "B2|1520023936.0", "pear": "B1|1520023938.0",
                  "plum": "B1|1520023937.0"}
        self.wait_records(("A1", "A2"), half_a, "half A")
        self.wait_records(("B1", "B2"), half_b, "half B")
        # Nothing crossed the cut.
        for name in ("A1", "A2"):
            self.assertNotIn("plum", self.records(name))
            self.assertEqual(self.rows(name), self.rows("A1"))
        for name in ("B1", "B2"):
            self.assertNotIn("apple", self.records(name))
            self.assertEqual(self.rows(name), self.rows("B1"))

        # Heal: the links come back by themselves and catch up, with no
        # new IAMAT; all four hold the newest record of each client.
        self.veth_a("up")
        wait_for(lambda: self.links_are("up", across), 30,
                 "the links across the cut to come back")
        newest = {"kiwi": "B2|1520023936.0", "pear": "A2|1520023939.0",
                  "apple": "A2|1520023937.0", "plum": "B1|1520023937.0"}
        self.wait_records(self.names, newest, "the newest records")
        for name in self.names:
            self.assertEqual(self.rows(name), self.rows("A1"), name)

        # SIGTERM to each supervisor stops its members; none is left.
        for s in "ab":
            os.kill(self.herd.supervisor_pid(self.run_dir[s]),
                    signal.SIGTERM)
        wait_for(lambda: not self.herd.processes(), 30, "no member left")
        for s in "ab":
            wait_for(lambda: not self.herd.supervisor_pid(self.run_dir[s]),
                     30, "supervisor %s to exit" % s)


if __name__ == "__main__":
    main()
