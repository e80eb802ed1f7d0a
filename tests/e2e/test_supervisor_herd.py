"""A herd spread over two supervisors converges through flooding.

One topology file; each supervisor runs its own members (named on its
command line, as two machines would pick theirs by address), with its own
run_dir so that both fit on this machine."""

import os
import signal
import time

from herdtest import SupervisorTestCase, alive, main, wait_for

NEWER = (b"IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023935.0\n")
OLDER = (b"IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.5\n")


class TwoSupervisors(SupervisorTestCase):
    names = ("Alpha", "Beta", "Gamma", "Delta")
    links = (("Alpha", "Beta"), ("Beta", "Gamma"), ("Gamma", "Delta"))
    extra = "restart_delay_min 0.1\nrestart_delay_max 1\n"

    def run_dir(self, n):
        return os.path.join(self.herd.dir, "run%d" % n)

    def record(self, name):
        return self.herd[name].sqlite(
            "select server_id, client_time from locations "
            "where client_id = 'kiwi.cs.ucla.edu'").strip()

    def test_converge(self):
        one, two = self.run_dir(1), self.run_dir(2)
        self.herd.ctl("-r", one, "start", "Alpha", "Beta", check=0)
        self.herd.ctl("-r", two, "start", "Gamma", "Delta", check=0)
        # Each supervisor runs only its own members.
        self.assertEqual(sorted(self.herd.status(run_dir=one)[1]),
                         ["Alpha", "Beta"])
        self.assertEqual(sorted(self.herd.status(run_dir=two)[1]),
                         ["Delta", "Gamma"])

        self.assertTrue(self.herd["Alpha"].ask(OLDER).startswith(b"AT "))
        for name in self.names:
            wait_for(lambda: self.record(name) ==
                     "Alpha|1520023934.5", 60, "%s to learn it" % name)

        # The second supervisor dies with its members; the first keeps
        # taking updates; once the second is back, all converge.
        pids = [int(m["pid"])
                for m in self.herd.status(run_dir=two)[1].values()]
        os.kill(self.herd.supervisor_pid(two), signal.SIGKILL)
        wait_for(lambda: not any(alive(p) for p in pids), 30,
                 "Gamma and Delta to die")
        self.assertTrue(self.herd["Beta"].ask(NEWER).startswith(b"AT "))
        self.herd.ctl("-r", two, "start", "Gamma", "Delta", check=0)
        for name in self.names:
            wait_for(lambda: self.record(name) ==
                     "Beta|1520023935.0", 60, "%s to catch up" % name)


# The example herd: the five CS 131 members and their links.
EXAMPLE = ("Goloman", "Hands", "Holiday", "Welsh", "Wilkes")
EXAMPLE_LINKS = (("Goloman", "Hands"), ("Goloman", "Holiday"),
                 ("Goloman", "Wilkes"), ("Hands", "Wilkes"),
                 ("Holiday", "Welsh"), ("Holiday", "Wilkes"))


class Forget(SupervisorTestCase):
    """herdctl forget on the example's five members under the
    supervisor, and herdctl reload of location_ttl."""
    names = EXAMPLE
    links = EXAMPLE_LINKS
    extra = ("restart_delay_min 0.1\nrestart_delay_max 1\n"
             "peer_retry_min 0.05\npeer_retry_max 0.5\n")

    def count(self, name, sql):
        return int(self.herd[name].sqlite(sql).strip())

    def test_forget_wait_and_errors(self):
        # No member runs: nobody to take it.
        out = self.herd.ctl("forget", "c0", check=1)
        self.assertIn("no member answers on its control socket", out.stderr)
        self.herd.ctl("start", check=0)
        for i, n in enumerate(EXAMPLE):
            self.assertTrue(self.herd[n].ask(
                b"IAMAT c%d +1+1 %.9f\n" % (i, time.time()))
                .startswith(b"AT "))
        for n in EXAMPLE:
            wait_for(lambda: self.count(n, "select count(*) from "
                                        "locations") == 5, 60,
                     "%s to know all" % n)
        # Bad input: a clear error, a non-zero status, nothing erased.
        out = self.herd.ctl("forget", check=64)
        self.assertIn("no client id", out.stderr)
        out = self.herd.ctl("forget", "c0", "c1 c2", check=1)
        self.assertIn("'c1 c2' is not a client id (holds white space)",
                      out.stderr)
        out = self.herd.ctl("forget", "--wait", "x", "c0", check=1)
        self.assertIn("--wait x: not a number of seconds", out.stderr)
        for n in EXAMPLE:
            self.assertEqual(self.count(n, "select count(*) from "
                                        "locations"), 5)
            self.assertEqual(self.count(n, "select count(*) from "
                                        "forgotten"), 0)

        out = self.herd.ctl("forget", "--wait", "60", "c0", "c1", check=0)
        self.assertRegex(out.stdout, r"erased c0 at \S+Z by Goloman\n")
        self.assertIn("committed at every member", out.stdout)
        for n in EXAMPLE:
            self.assertEqual(self.count(n, "select count(*) from "
                                        "locations"), 3, n)
            self.assertEqual(self.count(n, "select count(*) from "
                                        "forgotten"), 2, n)

        # Welsh down: the first member that answers takes the erasure,
        # and --wait names Welsh after its time, with status 3.
        self.herd.ctl("stop", "Welsh", check=0)
        out = self.herd.ctl("forget", "--wait", "1", "c2", check=3)
        self.assertIn("erased c2", out.stdout)
        self.assertRegex(out.stderr, r"not committed after 1 s at: Welsh\n")
        # Without --wait, committed at one member is enough.
        self.herd.ctl("forget", "c3", check=0)
        self.herd.ctl("start", "Welsh", check=0)
        wait_for(lambda: self.count("Welsh", "select count(*) from "
                                    "forgotten") == 4, 60, "Welsh")
        out = self.herd.ctl("forget", "--wait", "60", "c4", check=0)
        for n in EXAMPLE:
            wait_for(lambda: self.count(n, "select count(*) from "
                                        "locations") == 0, 60, n)
        # Many ids at once go in several requests, all the same.
        many = ["client-number-%04d" % i for i in range(700)]
        out = self.herd.ctl("forget", "--wait", "60", *many, check=0)
        self.assertEqual(out.stdout.count("erased client-number-"), 700)
        for n in EXAMPLE:
            self.assertEqual(self.count(n, "select count(*) from forgotten "
                                        "where client_id like 'client-%'"),
                             700, n)
        # Goloman took every erasure, and logged each with who asked.
        log = self.herd.log("Goloman")
        for i in range(5):
            self.assertRegex(log, r"erased client c%d at \S+, asked by "
                             r"uid %d pid \d+" % (i, os.getuid()))
        self.assertNotIn("erased client", self.herd.log("Hands"))

    def test_reload_applies_location_ttl(self):
        self.herd.ctl("start", check=0)
        pids = {n: m["pid"] for n, m in self.herd.status()[1].items()}
        self.herd["Hands"].ask(b"IAMAT t +1+1 %.9f\n" % time.time())
        for n in EXAMPLE:
            wait_for(lambda: self.count(n, "select count(*) from "
                                        "locations") == 1, 60, n)
        # A bad value is refused with its line, and changes nothing.
        with open(self.herd.conf) as f:
            good = f.read()
        for bad in ("-1", "5x"):
            with open(self.herd.conf, "w") as f:
                f.write(good + "location_ttl %s\n" % bad)
            out = self.herd.ctl("reload")
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("%s:%d: location_ttl: bad duration '%s'" % (
                self.herd.conf, good.count("\n") + 1, bad), out.stderr)
        time.sleep(1.5)
        for n in EXAMPLE:
            self.assertEqual(self.count(n, "select count(*) from "
                                        "locations"), 1)
        with open(self.herd.conf, "w") as f:
            f.write(good + "location_ttl 1s\n")
        self.herd.ctl("reload", check=0)
        for n in EXAMPLE:
            wait_for(lambda: self.count(n, "select count(*) from "
                                        "locations") == 0, 60, n)
        # Applied live: no member was restarted.
        self.assertEqual(pids, {n: m["pid"] for n, m in
                                self.herd.status()[1].items()})


if __name__ == "__main__":
    main()
