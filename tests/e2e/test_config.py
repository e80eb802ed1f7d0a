"""Bad configuration stops herd-server with file:line and status 78."""

import os
import pwd
import socket
import stat
import subprocess

from herdtest import EXIT_CONFIG, HERDCTL, SERVER, HerdTestCase, main


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
            ("member A 127.0.0.1:1\nmax_client_skew -1\n",
             ":2: max_client_skew: bad time '-1' (seconds, fractions "
             "allowed)"),
            ("member A 127.0.0.1:1\nmax_client_skew 5x\n",
             ":2: max_client_skew: bad time '5x' (seconds, fractions "
             "allowed)"),
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


class HerdKey(HerdTestCase):
    """The herd key file: a member with links refuses a key that is short,
    writable by others or another user's, with status 78 and how to make
    a good one; herdctl genkey makes one."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    extra = "herd_key_file keys/herd.key\n"
    start = False

    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.herd.dir, "keys")
        os.mkdir(self.keys, 0o700)
        self.key = os.path.join(self.keys, "herd.key")

    def write_key(self, data, mode):
        with open(self.key, "wb") as f:
            f.write(data)
        os.chmod(self.key, mode)

    def refused(self, why):
        out = run("-c", self.herd.conf, "Alpha")
        self.assertEqual(out.returncode, EXIT_CONFIG, out.stderr)
        self.assertIn(self.key + ": " + why, out.stderr)
        self.assertIn('"herdctl genkey FILE"', out.stderr)

    def test_short_key(self):
        for data in (b"", b"secret\n", b"k" * 31):
            with self.subTest(data=data):
                self.write_key(data, 0o600)
                self.refused("a herd key must hold 32 to 4096 bytes, "
                             "not %d;" % len(data))

    def test_writable_key(self):
        for mode in (0o602, 0o622, 0o660):
            with self.subTest(mode=oct(mode)):
                self.write_key(os.urandom(32), mode)
                self.refused("writable by group or others (mode %04o)" %
                             mode)

    def test_key_of_another_user(self):
        if os.geteuid() != 0:
            self.skipTest("giving the key to another user takes root "
                          "(CI runs as root)")
        try:
            nobody = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            nobody = 65534
        self.write_key(os.urandom(32), 0o600)
        os.chown(self.key, nobody, -1)
        self.refused("owned by uid %d, not by this member's user (uid 0)" %
                     nobody)

    def test_good_key_from_genkey(self):
        """genkey's key: 32 bytes, mode 0600, new each time, never
        written over; a member takes it and links with it."""
        out = subprocess.run([HERDCTL, "genkey", self.key],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual((out.returncode, out.stdout, out.stderr),
                         (0, "", ""))
        st = os.stat(self.key)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        with open(self.key, "rb") as f:
            key = f.read()
        other = os.path.join(self.keys, "other.key")
        subprocess.run([HERDCTL, "genkey", other], check=True, timeout=10)
        with open(other, "rb") as f:
            self.assertNotEqual(f.read(), key)

        # An existing file, even a bad key, is never replaced.
        with open(other, "wb") as f:
            f.write(b"short")
        for path, data in ((self.key, key), (other, b"short")):
            out = subprocess.run([HERDCTL, "genkey", path],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 1)
            self.assertIn("herdctl: %s: already exists; genkey never "
                          "replaces a key" % path, out.stderr)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), data)

        out = subprocess.run([HERDCTL, "genkey",
                              os.path.join(self.keys, "no", "k")],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot make a key there: No such file", out.stderr)
        self.assertEqual(sorted(os.listdir(self.keys)),
                         ["herd.key", "other.key"])

        # The members run with genkey's key and link.
        os.unlink(self.key)
        subprocess.run([HERDCTL, "genkey", self.key], check=True, timeout=10)
        for m in ("Alpha", "Beta"):
            self.herd[m].start()
        self.herd["Alpha"].ask(b"IAMAT k +1+1 1\n")
        self.herd["Beta"].wait_log("link up", 30)
        self.assertIn("herd key from " + self.key, self.herd["Alpha"].log())


if __name__ == "__main__":
    main()
