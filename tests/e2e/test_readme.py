"""The README's tour runs as written, against a fresh example herd.

The convention: a fenced block whose info string is `console runnable`
holds shell examples this test runs.  In it, a line starting with `$ ` is
a command (run with bash, from the top of a copy of the checkout); the
lines after it, up to the next `$ ` or the end of the block, are the
output the README shows for it.  A command must exit 0, and when output
is shown, its standard output must match it in substance:

- `...` stands for anything, across lines, and swallows the white space
  around it (so `{ ... }` is any JSON object, and `... A ... B ...` any
  text in which A comes before B);
- numbers (times, pids, counters, coordinates, hex digests) stand for any
  number, since they differ from run to run;
- a run of blanks stands for any run of blanks; everything else, the
  words, the punctuation, the line breaks and the order of lines, must be
  there as shown.

A command whose output does not match yet is run again for up to
RETRY_SECONDS (a flood or a link takes moments to reach every member),
then the test fails showing both.

The herd: example/ is copied into a temporary folder, its member ports
rewritten to free ones (and the same ports rewritten in the commands and
outputs), the build's programs linked next to it as in a build tree, and
the herd started with the README's quick-start command minus its build
steps (`./bootstrap`, `./configure`, `make`, which make check has done).
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from herdtest import (BUILDDIR, SRCDIR, alive, free_port, main,
                      sanitizer_report, wait_for)

README = os.path.join(SRCDIR, "README.md")
PROGRAMS = ("herd-server", "herd-supervisor", "herdctl", "herd-places")
BUILD_STEPS = ("./bootstrap", "./configure", "make")
RETRY_SECONDS = 15


def runnable_blocks(text):
    """[[(command, expected output or None), ...], ...]: the README's
    runnable blocks, each a list of its commands in order."""
    blocks = []
    for body in re.findall(r"^```console runnable\n(.*?)^```$", text,
                           re.M | re.S):
        cmds = []
        for line in body.splitlines():
            if line.startswith("$ "):
                cmds.append([line[2:], []])
            elif cmds:
                cmds[-1][1].append(line)
            else:
                raise AssertionError("runnable block starts with output: "
                                     + line)
        blocks.append([(c, "\n".join(o) if o else None) for c, o in cmds])
    return blocks


def start_command(text):
    """The quick-start command that starts the example herd, without the
    build steps that make check has already run."""
    for line in text.splitlines():
        if "herdctl -c example/herd.conf start" in line:
            steps = [s.strip() for s in line.split("&&")]
            return " && ".join(s for s in steps
                               if not s.startswith(BUILD_STEPS))
    raise AssertionError("README: no quick-start command starts the herd")


NUMBER = r"[+-]?[0-9a-f]*[0-9][0-9a-f]*(?:\.[0-9]+)?"


def output_pattern(expected):
    """A regular expression for output that matches expected in
    substance (see the top of this file)."""
    out = []
    for tok in re.split(r"(\s*\.\.\.\s*|%s|[ \t]+)" % NUMBER, expected):
        if not tok:
            continue
        if tok.strip() == "...":
            out.append(r"[\s\S]*?")
        elif re.fullmatch(NUMBER, tok):
            out.append(r"[+-]?[0-9a-f]+(?:\.[0-9]+)?")
        elif re.fullmatch(r"[ \t]+", tok):
            out.append(r"[ \t]+")
        else:
            out.append(re.escape(tok))
    return "".join(out)


class Matching(unittest.TestCase):
    """The matcher itself: what it lets through and what it does not."""

    def test_numbers_vary(self):
        p = output_pattern("AT Goloman +275611134.212960070 kiwi 12s 633fe6")
        self.assertRegex("AT Goloman -1.5 kiwi 3s 0a9f", "^%s$" % p)
        self.assertNotRegex("AT Hands -1.5 kiwi 3s 0a9f", "^%s$" % p)

    def test_ellipsis(self):
        p = output_pattern("{ ... }")
        self.assertTrue(re.fullmatch(p, '{\n  "results": []\n}'))
        p = output_pattern("  ... A ... B ...\n]")
        self.assertTrue(re.fullmatch(p, "x\nA\ny\nB\nz\n]"))
        self.assertFalse(re.fullmatch(p, "x\nB\ny\nA\nz\n]"))

    def test_lines_kept(self):
        p = output_pattern("one\n\n? YOLO")
        self.assertTrue(re.fullmatch(p, "one\n\n? YOLO"))
        self.assertFalse(re.fullmatch(p, "one\n? YOLO"))
        self.assertFalse(re.fullmatch(p, "one\n\n? YOLO\nmore"))


class Tour(unittest.TestCase):
    """Every runnable example of the README, in order, on one herd."""

    def setUp(self):
        with open(README) as f:
            self.text = f.read()
        self.dir = tempfile.mkdtemp(prefix="herd-readme-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        shutil.copytree(os.path.join(SRCDIR, "example"),
                        os.path.join(self.dir, "example"),
                        ignore=shutil.ignore_patterns("var"))
        for p in PROGRAMS:
            os.symlink(os.path.abspath(os.path.join(BUILDDIR, p)),
                       os.path.join(self.dir, p))
        # The example's member ports become free ones, everywhere.
        conf = os.path.join(self.dir, "example", "herd.conf")
        with open(conf) as f:
            text = f.read()
        self.ports = {}
        for port in re.findall(r"^member\s+\S+\s+127\.0\.0\.1:(\d+)",
                               text, re.M):
            self.ports[port] = str(free_port())
        self.assertEqual(len(self.ports), 5, text)
        with open(conf, "w") as f:
            f.write(self.ports_of(text))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("HERD_PLACES_KEY", "HERD_CONF",
                                 "HERD_BINDIR", "NOTIFY_SOCKET")}
        self.addCleanup(self.kill_herd)

    def ports_of(self, text):
        return re.sub(r"\b(%s)\b" % "|".join(self.ports),
                      lambda m: self.ports[m.group(1)], text)

    def kill_herd(self):
        """Whatever the test left running: the supervisor, by its lock
        file (its members die with it)."""
        lock = os.path.join(self.dir, "example", "var", "run",
                            "supervisor.lock")
        try:
            with open(lock) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)

    def sh(self, command):
        return subprocess.run(["bash", "-c", command], cwd=self.dir,
                              env=self.env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    def run_example(self, command, expected):
        command = self.ports_of(command)
        pattern = (output_pattern(self.ports_of(expected).rstrip("\n"))
                   if expected is not None else None)
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            out = self.sh(command)
            ok = out.returncode == 0 and (
                pattern is None or
                re.fullmatch(pattern, out.stdout.rstrip("\n")) is not None)
            if ok:
                return
            if time.monotonic() > deadline:
                self.fail("README example:\n$ %s\nexit status %d; output:\n"
                          "%s\n(stderr: %s)\nshown in the README:\n%s" %
                          (command, out.returncode, out.stdout, out.stderr,
                           expected))
            time.sleep(0.2)

    def test_tour(self):
        blocks = runnable_blocks(self.text)
        self.assertGreaterEqual(len(blocks), 4, "runnable blocks")
        start = start_command(self.text)
        out = self.sh(start)
        self.assertEqual(out.returncode, 0, "%s\n%s%s" %
                         (start, out.stdout, out.stderr))
        ran = 0
        for block in blocks:
            for command, expected in block:
                with self.subTest(command=command):
                    self.run_example(command, expected)
                ran += 1
        # The tour ends with the herd stopped, and nothing of it running.
        self.assertTrue(blocks[-1][-1][0].endswith(" stop"), blocks[-1])
        lock = os.path.join(self.dir, "example", "var", "run",
                            "supervisor.lock")
        with open(lock) as f:
            pid = int(f.read().strip() or 0)
        wait_for(lambda: not alive(pid), 10, "the supervisor to exit")
        logdir = os.path.join(self.dir, "example", "var", "log")
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name), errors="replace") as f:
                report = sanitizer_report(f.read())
            self.assertIsNone(report, "%s: %s" % (name, report))
        self.assertGreaterEqual(ran, 8)


if __name__ == "__main__":
    main()
