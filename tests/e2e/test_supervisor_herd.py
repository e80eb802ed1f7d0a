"""A herd spread over two supervisors converges through flooding.

One topology file; each supervisor runs its own members (named on its
command line, as two machines would pick theirs by address), with its own
run_dir so that both fit on this machine."""

import os
import signal

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


if __name__ == "__main__":
    main()
