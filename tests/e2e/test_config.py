"""Bad configuration stops herd-server with file:line and status 78."""

import os
import socket
import subprocess

from herdtest import EXIT_CONFIG, SERVER, HerdTestCase, main


def run(*args):
    return subprocess.run([SERVER, *args], capture_output=True, text=True,
                          timeout=10)


class Config(HerdTestCase):
    start = False

    def write(self, text):
        with open(self.herd.conf, "w") as f:
            f.write(text)

    def test_errors(self):
        cases = [
            ("member A 127.0.0.1:1\nfrobnicate 1\n",
             ":2: unknown directive 'frobnicate'"),
            ("member A 127.0.0.1:1\nmember B 127.0.0.1:1\n",
             ":2: duplicate port 1"),
            ("member A 127.0.0.1:1\nmember A 127.0.0.1:2\n",
             ":2: duplicate member 'A'"),
            ("member A 300.0.0.1:1\n", ":1: bad address '300.0.0.1:1'"),
            ("member A 127.0.0.1:1\nlink A Z\n",
             ":2: link to unknown member 'Z'"),
            ("member A 127.0.0.1:1\nlink A A\n",
             ":2: member 'A' linked to itself"),
            ("member A 127.0.0.1:1\nlocation_ttl -1\n",
             ":2: location_ttl: bad duration '-1'"),
            ("member A 127.0.0.1:1\n\nlocation_ttl 5x\n",
             ":3: location_ttl: bad duration '5x'"),
            ("member A 127.0.0.1:1\nforget_keep 0d\n",
             ":2: forget_keep 0d out of range"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                self.write(text)
                out = run("-c", self.herd.conf, "A")
                self.assertEqual(out.returncode, EXIT_CONFIG)
                self.assertIn(self.herd.conf + message, out.stderr)
                self.assertEqual(out.stdout, "")

    def test_fsync(self):
        """fsync takes Redis's appendfsync words: the member starts and
        says which it is in; anything else is refused at its line."""
        modes = {
            "always": "WAL, synchronous=FULL: a reply waits for fsync",
            "everysec": "WAL, synchronous=NORMAL, WAL synced every second "
                        "(fsync everysec): a power loss can lose the last "
                        "second of updates",
        }
        m = self.herd["Alpha"]
        for word, line in modes.items():
            with self.subTest(fsync=word):
                self.herd.write_conf(("Alpha",), extra="fsync " + word)
                before = len(m.log())
                m.start()
                self.assertRegex(m.ask(b"IAMAT k%s +1+1 1\n" %
                                       word.encode()), rb"^AT Alpha ")
                self.assertEqual(m.stop(), 0)
                said = [l for l in modes.values() if l in m.log()[before:]]
                self.assertEqual(said, [line])
        self.write("member A 127.0.0.1:1\nfsync sometimes\n")
        out = run("-c", self.herd.conf, "A")
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn(self.herd.conf + ":2: unknown fsync 'sometimes' "
                      "(want always or everysec)", out.stderr)

    def test_unknown_member(self):
        out = run("-c", self.herd.conf, "Nobody")
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("no member named 'Nobody'", out.stderr)

    def test_missing_file(self):
        out = run("-c", os.path.join(self.herd.dir, "nope.conf"), "Alpha")
        self.assertEqual(out.returncode, EXIT_CONFIG)
        self.assertIn("nope.conf: No such file or directory", out.stderr)

    def test_usage(self):
        out = run("Alpha")
        self.assertEqual(out.returncode, 64)
        self.assertIn("usage: herd-server", out.stderr)

    def test_address_in_use(self):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.herd.ports["Alpha"]))
            s.listen()
            out = run("-c", self.herd.conf, "Alpha")
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot listen on 127.0.0.1:%d" %
                      self.herd.ports["Alpha"], out.stderr)


if __name__ == "__main__":
    main()
