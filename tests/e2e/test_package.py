"""The Debian package: built, linted, installed into a throwaway root, and
its herd-server answering with the configuration it installs.

`make deb` builds it from the release tarball's files in a temporary
folder (DEB_BUILD_OPTIONS=nocheck: make check has run the unit tests
already), once for the whole file.  Skipped, saying why, without
dpkg-buildpackage, debhelper or the build dependencies (bootstrap installs
them as optional); lintian's part is skipped without lintian.

The install: `dpkg --root` unpacks the package into an empty folder with
its own dpkg database (so the conffiles are dpkg's), then the package's
own sysusers.d and tmpfiles.d files are applied to that root with
`systemd-sysusers --root` and `systemd-tmpfiles --root --create`, as its
postinst does, and `dpkg --configure` puts the conffile in place.  The
postinst itself is set aside before that: chrootless, it would load
debconf on this machine, not in the root.  The installed herd-server
then runs as the user that sysusers made, with a copy of the installed
/etc/herd/herd.conf in which only the port (a free one) and the folders
(the root's own /var/lib/herd, /var/log/herd and /run/herd) are changed.

Remove and purge: the package's postrm runs in a private mount namespace
whose /var/lib, /var/log and /run are temporary folders, with a temporary
debconf database: remove keeps everything, purge keeps the databases
unless herd/purge_data says true.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from herdtest import BUILDDIR, KIWI, free_port, main, wait_for

MAKE = os.environ.get("MAKE", "make")

# Every file the package ships (directories aside), and nothing else.
FILES = {
    "etc/herd/herd.conf",
    "lib/systemd/system/herd-member@.service",
    "lib/systemd/system/herd.service",
    "lib/systemd/system/herd.target",
    "usr/bin/herd-places",
    "usr/bin/herd-server",
    "usr/bin/herd-supervisor",
    "usr/bin/herdctl",
    "usr/lib/sysusers.d/herd.conf",
    "usr/lib/tmpfiles.d/herd.conf",
    "usr/share/doc/herd/README.md.gz",
    "usr/share/doc/herd/changelog.gz",
    "usr/share/doc/herd/copyright",
    "usr/share/doc/herd/examples/herd.conf",
    "usr/share/doc/herd/operations.md.gz",
    "usr/share/doc/herd/performance.md.gz",
    "usr/share/doc/herd/reliability.md.gz",
    "usr/share/lintian/overrides/herd",
    "usr/share/man/man1/herd-places.1.gz",
    "usr/share/man/man5/herd.conf.5.gz",
    "usr/share/man/man7/herd-peer.7.gz",
    "usr/share/man/man8/herd-server.8.gz",
    "usr/share/man/man8/herd-supervisor.8.gz",
    "usr/share/man/man8/herdctl.8.gz",
}


def configure_version():
    """AC_INIT's version, as the build's Makefile holds it."""
    with open(os.path.join(BUILDDIR, "Makefile")) as f:
        m = re.search(r"^VERSION = (\S+)$", f.read(), re.M)
    return m.group(1)


def missing_tools():
    """Why the package cannot be built here, or None."""
    for tool in ("dpkg-buildpackage", "dh", "dpkg-checkbuilddeps"):
        if shutil.which(tool) is None:
            return ("%s not found (bootstrap installs dpkg-dev and debhelper "
                    "as optional)" % tool)
    control = os.path.join(os.environ.get("HERD_SRCDIR", BUILDDIR),
                           "debian", "control")
    out = subprocess.run(["dpkg-checkbuilddeps", control],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return "build dependencies missing: " + out.stderr.strip()
    return None


class Package(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        why = missing_tools()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.mkdtemp(prefix="herd-package-")
        os.chmod(cls.tmp, 0o755)   # the member runs as herd inside it
        cls.debdir = os.path.join(cls.tmp, "build")
        cls.version = configure_version()
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
        start = time.monotonic()
        out = subprocess.run([MAKE, "-C", BUILDDIR, "deb",
                              "DEBDIR=" + cls.debdir],
                             capture_output=True, text=True, env=env)
        cls.build_seconds = time.monotonic() - start
        if out.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("make deb failed\n%s%s" %
                                 (out.stdout[-5000:], out.stderr[-5000:]))
        print("make deb took %.1f s" % cls.build_seconds)
        arch = subprocess.run(["dpkg", "--print-architecture"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
        cls.deb = os.path.join(cls.debdir, "herd_%s_%s.deb" %
                               (cls.version, arch))
        cls.changes = os.path.join(cls.debdir, "herd_%s_%s.changes" %
                                   (cls.version, arch))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_name_and_version(self):
        """herd_VERSION_ARCH.deb, VERSION from configure.ac."""
        self.assertTrue(os.path.exists(self.deb), os.listdir(self.debdir))
        out = subprocess.run(["dpkg-deb", "-f", self.deb, "Version"],
                             capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), self.version)

    def test_version_mismatch_refused(self):
        """make deb builds nothing when debian/changelog disagrees with
        the version configure.ac gives."""
        other = os.path.join(self.tmp, "other")
        out = subprocess.run([MAKE, "-C", BUILDDIR, "deb", "DEBDIR=" + other,
                              "VERSION=%s.1" % self.version],
                             capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("debian/changelog says %s, configure.ac %s.1" %
                      (self.version, self.version), out.stderr)
        self.assertFalse(os.path.exists(other))

    def test_files(self):
        out = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True,
                             text=True, check=True).stdout
        files = {line.split()[-1][2:] for line in out.splitlines()
                 if not line.startswith("d")}
        self.assertEqual(files, FILES)
        conffiles = subprocess.run(
            "dpkg-deb --ctrl-tarfile '%s' | tar -xOf - ./conffiles" %
            self.deb, shell=True, capture_output=True, text=True, check=True)
        self.assertEqual(conffiles.stdout.split(), ["/etc/herd/herd.conf"])

    def test_lintian(self):
        if shutil.which("lintian") is None:
            self.skipTest("lintian not found (bootstrap installs it as "
                          "optional)")
        out = subprocess.run(["lintian", "--fail-on", "error,warning",
                              self.changes], capture_output=True, text=True)
        tags = [l for l in out.stdout.splitlines() if l.strip()]
        self.assertEqual((out.returncode, tags), (0, []), out.stderr)

    def test_installed_member_answers(self):
        if os.geteuid() != 0:
            self.skipTest("installing into a root and running the member "
                          "as user herd needs root")
        root = os.path.join(self.tmp, "root")
        dpkgdir = os.path.join(root, "var", "lib", "dpkg")
        for d in ("info", "updates"):
            os.makedirs(os.path.join(dpkgdir, d))
        open(os.path.join(dpkgdir, "status"), "w").close()
        subprocess.run(["dpkg", "--root=" + root, "--force-depends",
                        "--force-script-chrootless", "--unpack", self.deb],
                       capture_output=True, text=True, check=True)
        with open(os.path.join(dpkgdir, "info", "herd.conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/herd/herd.conf"])
        # Configured by dpkg (which puts the conffile in place and marks
        # the package installed) with the postinst set aside: its effect
        # on the root is applied below.
        os.unlink(os.path.join(dpkgdir, "info", "herd.postinst"))
        subprocess.run(["dpkg", "--root=" + root, "--force-depends",
                        "--force-script-chrootless", "--configure", "herd"],
                       capture_output=True, text=True, check=True)
        status = subprocess.run(["dpkg-query", "--root=" + root, "-W",
                                 "-f=${Status}", "herd"],
                                capture_output=True, text=True, check=True)
        self.assertEqual(status.stdout, "install ok installed")
        subprocess.run(["systemd-sysusers", "--root=" + root, "herd.conf"],
                       capture_output=True, check=True)
        subprocess.run(["systemd-tmpfiles", "--root=" + root, "--create",
                        "herd.conf"], capture_output=True, check=True)
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = {l.split(":")[0]: l.split(":") for l in f}
        self.assertIn("herd", users)
        uid, gid = int(users["herd"][2]), int(users["herd"][3])
        self.assertLess(uid, 1000)          # a system user
        for d in ("var/lib/herd", "var/log/herd", "run/herd"):
            st = os.stat(os.path.join(root, d))
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                             (uid, gid, 0o750), d)

        # The installed configuration, with only its port and folders
        # moved into the root.
        with open(os.path.join(root, "etc", "herd", "herd.conf")) as f:
            text = f.read()
        members = re.findall(r"^member\s+(\S+)\s+127\.0\.0\.1:(\d+)\s*$",
                             text, re.M)
        self.assertEqual(len(members), 1, text)
        name, port = members[0]
        new_port = free_port()
        text = text.replace("127.0.0.1:%s" % port, "127.0.0.1:%d" % new_port)
        for d in ("/var/lib/herd", "/var/log/herd", "/run/herd"):
            text = re.sub(r"(?<=\s)%s\b" % re.escape(d), root + d, text)
        conf = os.path.join(self.tmp, "herd.conf")
        with open(conf, "w") as f:
            f.write(text)
        os.chmod(conf, 0o644)

        server = os.path.join(root, "usr", "bin", "herd-server")
        log = open(os.path.join(self.tmp, "member.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
             "--clear-groups", server, "-c", conf, name],
            stdout=subprocess.DEVNULL, stderr=log)

        def logged():
            log.seek(0)
            return log.read()
        try:
            def answer():
                if proc.poll() is not None:
                    raise AssertionError("herd-server exited %d:\n%s" %
                                         (proc.returncode, logged()))
                out = subprocess.run(["nc", "-q1", "127.0.0.1",
                                      str(new_port)], input=KIWI + b"\n",
                                     capture_output=True, timeout=10)
                return out.stdout
            reply = wait_for(answer, 30, "the installed member's reply")
            self.assertTrue(reply.startswith(b"AT %s " % name.encode()) and
                            reply.endswith(KIWI[len("IAMAT"):] + b"\n"),
                            reply)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, logged())
        db = os.path.join(root, "var", "lib", "herd", name + ".db")
        self.assertEqual(os.stat(db).st_uid, uid)

    def run_postrm(self, action, answer=None):
        """Run the package's postrm with action on stand-ins for the
        folders it touches: a private mount namespace puts temporary
        folders over /var/lib, /var/log and /run (and /etc/herd when this
        machine has one), and debconf reads a temporary database
        (DEBCONF_SYSTEMRC) holding herd's template, and answer to
        herd/purge_data when one is given.  Returns (status, stderr, the
        stand-in root)."""
        work = tempfile.mkdtemp(prefix="postrm-", dir=self.tmp)
        ctl = os.path.join(work, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, ctl], check=True)
        fake = os.path.join(work, "root")
        for d in ("var/lib/herd", "var/log/herd", "run/herd", "etc/herd"):
            os.makedirs(os.path.join(fake, d))
        for f in ("var/lib/herd/local.db", "var/lib/herd/herd.key",
                  "var/log/herd/local.log"):
            with open(os.path.join(fake, f), "w") as fh:
                fh.write("data\n")
        rc = os.path.join(work, "debconf.conf")
        with open(rc, "w") as f:
            f.write("Config: config\nTemplates: templates\n\n"
                    "Name: config\nDriver: File\nFilename: %s/config.dat\n"
                    "\nName: templates\nDriver: File\n"
                    "Filename: %s/templates.dat\n" % (work, work))
        env = dict(os.environ, DEBCONF_SYSTEMRC=rc,
                   DEBIAN_FRONTEND="noninteractive")
        env.pop("DEBCONF_DB_REPLACE", None)
        subprocess.run(["debconf-communicate", "herd"], env=env, check=True,
                       input="X_LOADTEMPLATEFILE %s herd\n" %
                       os.path.join(ctl, "templates"), text=True,
                       stdout=subprocess.DEVNULL)
        if answer is not None:
            subprocess.run(["debconf-set-selections"], env=env, check=True,
                           input="herd herd/purge_data boolean %s\n" % answer,
                           text=True)
        binds = ["mount --bind %s/var/lib /var/lib" % fake,
                 "mount --bind %s/var/log /var/log" % fake,
                 "mount --bind %s/run /run" % fake]
        if os.path.exists("/etc/herd"):
            binds.append("mount --bind %s/etc/herd /etc/herd" % fake)
        out = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
             " && ".join(binds) + ' && exec "$0" "$1"',
             os.path.join(ctl, "postrm"), action],
            env=env, capture_output=True, text=True, timeout=60)
        return out.returncode, out.stderr, fake

    def postrm_usable(self):
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("running the postrm on stand-in folders needs "
                          "root and unshare")
        if shutil.which("debconf-communicate") is None:
            self.skipTest("debconf not found")
        # A chroot whose / is no mount point cannot have a private mount
        # namespace made in it.
        probe = subprocess.run(["unshare", "--mount", "--propagation",
                                "private", "true"], capture_output=True,
                               text=True, timeout=60)
        if probe.returncode != 0:
            self.skipTest("cannot make a private mount namespace here: %s"
                          % probe.stderr.strip())

    def left(self, fake):
        return sorted(os.path.relpath(os.path.join(d, f), fake)
                      for d, _, files in os.walk(fake) for f in files)

    def test_remove_keeps_everything(self):
        self.postrm_usable()
        status, err, fake = self.run_postrm("remove")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.left(fake), ["var/lib/herd/herd.key",
                                           "var/lib/herd/local.db",
                                           "var/log/herd/local.log"])

    def test_purge_keeps_databases_unless_confirmed(self):
        """Without an answer (no terminal: the default, no), a purge
        removes the logs and the run folder and keeps /var/lib/herd."""
        self.postrm_usable()
        status, err, fake = self.run_postrm("purge")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.left(fake), ["var/lib/herd/herd.key",
                                           "var/lib/herd/local.db"])
        self.assertFalse(os.path.exists(os.path.join(fake, "run/herd")))
        self.assertIn("/var/lib/herd kept", err)
        status, err, fake = self.run_postrm("purge", "false")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.left(fake), ["var/lib/herd/herd.key",
                                           "var/lib/herd/local.db"])

    def test_purge_confirmed_removes_databases(self):
        self.postrm_usable()
        status, err, fake = self.run_postrm("purge", "true")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.left(fake), [])
        self.assertFalse(os.path.exists(os.path.join(fake, "var/lib/herd")))


if __name__ == "__main__":
    main()
