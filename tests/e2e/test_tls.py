"""Security on the wire: links over TLS 1.3 under the herd key, TLS
clients on the same port, and what an attacker on the path can and
cannot do.

A byte relay in this file sits between two linked members, as an attacker
on the network would: it passes the TLS handshake and then injects,
rewrites or drops bytes.  Python's ssl has no TLS 1.3 PSK callbacks
before 3.13, so the peer protocol inside TLS is spoken through
`openssl s_client -psk`.
"""

import hashlib
import hmac
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from herdtest import ROWS, HerdTestCase, free_port, main, wait_for

OPENSSL = shutil.which("openssl")
PSK_IDENTITY = "herd-peer/2"
PSK_LABEL = b"herd peer TLS 1.3 PSK v2"
EXPORTER = "EXPORTER-herd-peer-proof"
SUITE = "TLS_AES_128_GCM_SHA256"


def psk_of(key):
    """The links' PSK, as a member derives it: HKDF-SHA256, no salt."""
    prk = hmac.new(b"\0" * 32, key, hashlib.sha256).digest()
    return hmac.new(prk, PSK_LABEL + b"\x01", hashlib.sha256).digest()


class Relay:
    """A TCP relay to target that records every byte both ways and, when
    armed, tampers once with the next TLS application-data record from
    the dialler to the listener: 'inject' puts a plaintext line before
    it, 'rewrite' flips one of its bytes, 'drop' leaves it out."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(16)
        self.lock = threading.Lock()
        self.captured = bytearray()
        self.armed = None
        self.tampered = 0
        self.socks = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, how):
        with self.lock:
            self.armed = how

    def _accept(self):
        while not self.stopped:
            try:
                a, _ = self.lsock.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(self.target, 5)
            except OSError:
                a.close()
                continue
            with self.lock:
                self.socks += [a, b]
            threading.Thread(target=self._pump, args=(a, b, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(b, a, False),
                             daemon=True).start()

    def _tamper(self, rec):
        """rec is one whole TLS record; returns what goes on instead."""
        with self.lock:
            how, self.armed = self.armed, None
            if how:
                self.tampered += 1
        if how == "inject":
            return b"FWD forged Beta +1.000000000 +1+1 5\n" + rec
        if how == "rewrite":
            i = len(rec) - 20
            return rec[:i] + bytes([rec[i] ^ 0x01]) + rec[i + 1:]
        if how == "drop":
            return b""
        return rec

    def _pump(self, src, dst, forward):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    self.captured += data
                buf += data
                out = b""
                if buf[0] not in (0x14, 0x15, 0x16, 0x17):
                    # Not TLS (a plain link): passed on, or injected into.
                    if forward and self.armed == "inject":
                        buf = self._tamper(b"") + buf
                    out, buf = buf, b""
                # Whole records: 5-byte header, then its length.
                while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(
                        buf[3:5], "big"):
                    n = 5 + int.from_bytes(buf[3:5], "big")
                    rec, buf = buf[:n], buf[n:]
                    if forward and rec[0] == 0x17 and self.armed:
                        rec = self._tamper(rec)
                    out += rec
                if out:
                    dst.sendall(out)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.lsock.close()
        with self.lock:
            for s in self.socks:
                s.close()


class TLSCase(HerdTestCase):
    extra = "peer_retry_min 0.05\npeer_retry_max 0.5\n"

    def rows(self, name):
        return self.herd[name].sqlite(ROWS)

    def link_up(self, name):
        m = self.herd[name]
        return (m.sqlite("select count(*) from peers where state != 'up'")
                .strip() == "0" and
                m.sqlite("select count(*) from peers").strip() != "0")

    def assert_psk_tls(self, *members):
        """A link in these members' logs came up over TLS 1.3 keyed by
        the herd's PSK."""
        self.assertRegex("".join(m.log() for m in members),
                         r"TLS established \(TLSv1\.3 TLS_\w+_SHA256, "
                         r"herd PSK\)")

    def key(self):
        with open(os.path.join(self.herd.dir, "var", "herd.key"), "rb") as f:
            return f.read()


class Links(TLSCase):
    """Two members, each dialling the other through a relay: whichever
    dial wins, the link crosses a relay."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def setUp(self):
        super().setUp()
        h = self.herd
        self.to_alpha = Relay(h.ports["Alpha"])
        self.to_beta = Relay(h.ports["Beta"])
        self.addCleanup(self.to_alpha.stop)
        self.addCleanup(self.to_beta.stop)
        with open(h.conf) as f:
            text = f.read()
        for name, other, relay in (("Alpha", "Beta", self.to_beta),
                                   ("Beta", "Alpha", self.to_alpha)):
            conf = os.path.join(h.dir, "%s.conf" % name)
            with open(conf, "w") as f:
                f.write(text.replace("127.0.0.1:%d" % h.ports[other],
                                     "127.0.0.1:%d" % relay.port))
            h[name].start(conf=conf)

    def captured(self):
        return bytes(self.to_alpha.captured + self.to_beta.captured)

    def wait_up(self):
        wait_for(lambda: self.link_up("Alpha") and self.link_up("Beta"),
                 30, "the link up at both ends")

    def test_link_is_tls_and_carries_no_plaintext(self):
        self.wait_up()
        a, b = self.herd["Alpha"], self.herd["Beta"]
        self.assert_psk_tls(a, b)
        a.ask(b"IAMAT wiretapped-phone +34.068930-118.445127 1520023934.5\n")
        wait_for(lambda: "wiretapped-phone" in self.rows("Beta"), 30,
                 "the update at Beta")
        cap = self.captured()
        self.assertGreater(len(cap), 1000)
        for secret in (b"wiretapped-phone", b"+34.068930", b"1520023934",
                       b"UPD", b"HELLO", b"CHALLENGE", b"Alpha"):
            self.assertNotIn(secret, cap)

    def test_tampering_breaks_the_link_and_stores_nothing(self):
        a, b = self.herd["Alpha"], self.herd["Beta"]
        for i, how in enumerate(("inject", "rewrite", "drop")):
            with self.subTest(how=how):
                self.wait_up()
                downs = (a.log() + b.log()).count("link down")
                self.to_alpha.arm(how)
                self.to_beta.arm(how)
                client = b"real-%d" % i
                a.ask(b"IAMAT %s +1+1 %d\n" % (client, 100 + i))
                wait_for(lambda: (a.log() + b.log()).count("link down") >
                         downs, 30, "the link to break (%s)" % how)
                # The member that read the bad record says which peer and
                # what TLS found.
                self.assertRegex(
                    a.log() + b.log(),
                    r"peer (Alpha|Beta): TLS error: .*(bad record mac|"
                    r"wrong version|record|decrypt|length|mac)")
                # Nothing forged anywhere; the real update arrives once
                # the relay passes bytes faithfully again.
                self.to_alpha.arm(None)
                self.to_beta.arm(None)
                wait_for(lambda: client.decode() in self.rows("Beta"), 60,
                         "Beta to catch up after %s" % how)
                for n in ("Alpha", "Beta"):
                    self.assertNotIn("forged", self.rows(n))
                self.assertEqual(self.rows("Alpha"), self.rows("Beta"))
        self.assertGreaterEqual(self.to_alpha.tampered +
                                self.to_beta.tampered, 3)


class Refusals(TLSCase):
    """A member refuses, and says why, a link whose other side disagrees
    about TLS or holds another key."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def start_with(self, name, extra):
        conf = os.path.join(self.herd.dir, "%s.conf" % name)
        with open(self.herd.conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text + extra)
        self.herd[name].start(conf=conf)

    def test_plain_hello_to_a_tls_member(self):
        a = self.herd["Alpha"].start()
        hello = b"HELLO herd/2 Beta Alpha %s %s\n" % (b"ab" * 32, b"cd" * 16)
        self.assertEqual(a.ask(hello), b"? " + hello)
        a.wait_log(r"peer handshake refused: a plain HELLO, but this "
                   r"member has peer_tls yes")

    def test_peer_tls_disagreement(self):
        """Alpha has peer_tls yes, Beta no: each refuses the other's
        dial with a log line, and no link ever comes up."""
        self.herd["Alpha"].start()
        self.start_with("Beta", "peer_tls no\n")
        a, b = self.herd["Alpha"], self.herd["Beta"]
        b.wait_log(r"TLS refused: this member has peer_tls no", 30)
        a.wait_log(r"peer Beta: TLS handshake failed: closed by the peer "
                   r"\(does it have peer_tls no", 30)
        a.wait_log(r"a plain HELLO, but this member has peer_tls yes", 30)
        b.wait_log(r"peer Alpha: handshake refused by Alpha \(a plain "
                   r"HELLO: does it have peer_tls yes", 30)
        self.assertNotIn("link up", a.log() + b.log())

    @unittest.skipUnless(OPENSSL, "no openssl command")
    def test_tls_link_to_a_plain_member_with_a_certificate(self):
        """peer_tls no with a certificate: the herd's PSK is refused in
        the TLS handshake itself."""
        d = self.herd.dir
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(d, "m.key"), "-out",
                        os.path.join(d, "m.crt"), "-days", "2", "-subj",
                        "/CN=member"], check=True, capture_output=True)
        self.start_with("Beta", "peer_tls no\ntls_cert_file m.crt\n"
                        "tls_key_file m.key\n")
        self.herd["Alpha"].start()
        b = self.herd["Beta"]
        b.wait_log(r"TLS handshake failed: a TLS link refused: this member "
                   r"has peer_tls no", 30)
        self.herd["Alpha"].wait_log(r"peer Beta: TLS handshake failed", 30)

    def test_wrong_key(self):
        self.herd["Alpha"].start()
        self.start_with("Beta", "herd_key_file other.key\n")
        a, b = self.herd["Alpha"], self.herd["Beta"]
        for m in (a, b):
            m.wait_log(r"TLS handshake failed", 30)
        b.ask(b"IAMAT secret +1+1 5\n")
        time.sleep(0.5)
        self.assertNotIn("link up", a.log() + b.log())
        self.assertEqual(self.rows("Alpha"), "")


@unittest.skipUnless(OPENSSL, "no openssl command")
class HandPeerTLS(TLSCase):
    """Alpha is real; Beta is played through openssl s_client with the
    PSK derived from the herd key, which proves the handshake inside
    TLS and its binding to the TLS session."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def setUp(self):
        super().setUp()
        self.herd["Alpha"].start()

    def s_client(self, key):
        p = subprocess.Popen(
            [OPENSSL, "s_client", "-connect",
             "127.0.0.1:%d" % self.herd.ports["Alpha"], "-tls1_3",
             "-ciphersuites", SUITE, "-psk", psk_of(key).hex(),
             "-psk_identity", PSK_IDENTITY, "-keymatexport", EXPORTER,
             "-keymatexportlen", "32", "-nocommands"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        # Cleanups run last first: kill, reap, close the pipes.
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.stdin.close)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        binding = None
        while binding is None:
            line = p.stdout.readline()
            if not line:
                return p, None
            m = re.match(rb"\s*Keying material: ([0-9A-Fa-f]+)", line)
            if m:
                binding = m.group(1).decode().lower()
        return p, binding

    def mac(self, role, hs):
        msg = "herd/2 %s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n" % (
            role, "Beta", "Alpha", hs["dn"], hs["ln"], hs["ddb"], hs["ldb"],
            hs["binding"])
        return hmac.new(self.key(), msg.encode(),
                        hashlib.sha256).hexdigest()

    def handshake(self, p, binding, proof_binding):
        hs = {"dn": "ab" * 32, "ddb": "cd" * 16, "binding": binding}
        p.stdin.write(b"HELLO herd/2 Beta Alpha %s %s\n" %
                      (hs["dn"].encode(), hs["ddb"].encode()))
        p.stdin.flush()
        line = p.stdout.readline()
        while not line.startswith(b"CHALLENGE"):
            self.assertTrue(line, "s_client closed")
            line = p.stdout.readline()
        parts = line.split()
        hs["ln"], hs["ldb"] = parts[1].decode(), parts[2].decode()
        self.assertEqual(parts[3].decode(), self.mac("listener", hs))
        hs["binding"] = proof_binding
        p.stdin.write(b"AUTH %s\n" % self.mac("dialer", hs).encode())
        p.stdin.flush()
        return p.stdout.readline()

    def test_handshake_inside_tls_bound_to_the_session(self):
        key = self.key()
        p, binding = self.s_client(key)
        self.assertIsNotNone(binding, "s_client printed no keying material")
        self.assertEqual(self.handshake(p, binding, binding), b"READY\n")
        p.stdin.write(b"UPD 3 viatls Beta +1.000000000 +1+1 5\n")
        p.stdin.flush()
        line = p.stdout.readline()
        while line == b"PING\n":
            line = p.stdout.readline()
        self.assertEqual(line, b"ACK 3\n")
        self.assertIn("viatls|Beta|", self.rows("Alpha"))
        p.kill()
        # A proof made for another session (another binding) is refused.
        q, binding2 = self.s_client(key)
        self.assertNotEqual(binding, binding2)
        reply = self.handshake(q, binding2, binding)
        self.assertTrue(reply.startswith(b"? AUTH "), reply)
        self.herd["Alpha"].wait_log(r"proof does not match the herd key")

    def test_psk_of_another_key(self):
        p, binding = self.s_client(b"not the herd key")
        self.assertIsNone(binding)
        self.herd["Alpha"].wait_log(r"TLS handshake failed: TLS error")


def openssl(*args, cwd=None):
    subprocess.run([OPENSSL, *args], check=True, capture_output=True,
                   cwd=cwd)


def make_pki(d):
    """A throwaway CA in d, a member certificate (CN member1 and, for the
    reload, member2) and client certificates: one the CA signed, one
    self-signed."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=herd test CA", cwd=d)
    for name in ("member1", "member2", "client"):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-out",
                name + ".crt", "-days", "2", cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "stranger.key", "-out",
            "stranger.crt", "-days", "2", "-subj", "/CN=stranger", cwd=d)


class TLSClient:
    """openssl s_client -quiet on a member's port: bytes in, bytes out."""

    def __init__(self, port, *args):
        self.p = subprocess.Popen(
            [OPENSSL, "s_client", "-quiet", "-connect",
             "127.0.0.1:%d" % port, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def read(self, n, timeout=10):
        """n bytes, or fewer if the connection ends or time is up."""
        out = b""
        fd = self.p.stdout.fileno()
        deadline = time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                out += chunk
        return out

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdin.close()
        self.p.stdout.close()


def server_subject(port):
    """The subject of the certificate a member serves now."""
    out = subprocess.run([OPENSSL, "s_client", "-connect",
                          "127.0.0.1:%d" % port], input=b"",
                         capture_output=True, timeout=30).stdout
    m = re.search(rb"subject=(.*)", out)
    return m.group(1).decode() if m else None


@unittest.skipUnless(OPENSSL, "no openssl command")
class Clients(TLSCase):
    """Alpha serves TLS clients with a certificate, on its one port."""
    start = False

    def setUp(self):
        super().setUp()
        make_pki(self.herd.dir)
        shutil.copy(os.path.join(self.herd.dir, "member1.crt"),
                    os.path.join(self.herd.dir, "member.crt"))
        shutil.copy(os.path.join(self.herd.dir, "member1.key"),
                    os.path.join(self.herd.dir, "member.key"))
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def start_alpha(self, extra=""):
        with open(self.herd.conf, "a") as f:
            f.write("tls_cert_file member.crt\ntls_key_file member.key\n" +
                    extra)
        return self.herd["Alpha"].start()

    def tls(self, *args, port=None):
        c = TLSClient(port or self.herd.ports["Alpha"], *args)
        self.clients.append(c)
        return c

    def test_s_client_gets_exactly_what_nc_gets(self):
        a = self.start_alpha()
        a.ask(b"IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.9\n")
        ask = b"YOLO x\nWHATSAT kiwi.cs.ucla.edu 10 0\nIAMAT bad\n"
        plain = a.ask(ask)
        self.assertTrue(plain.startswith(b"? YOLO x\nAT Alpha "), plain)
        c = self.tls()
        c.send(ask)
        self.assertEqual(c.read(len(plain) + 1, timeout=5), plain)
        a.wait_log(r"TLS established \(TLSv1\.3 \S+, no client "
                   r"certificate\)")

    def test_pipelined_records(self):
        """A TLS client that sends each command in a record of its own,
        without waiting: every one is answered, in order."""
        import ssl
        self.start_alpha()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1",
                                        self.herd.ports["Alpha"]), 10)
        s = ctx.wrap_socket(raw)
        self.addCleanup(s.close)
        n = 300
        for i in range(n):
            s.sendall(b"IAMAT piped%d +1+1 %d\n" % (i, i + 1))
        f = s.makefile("rb")
        for i in range(n):
            line = f.readline()
            self.assertRegex(line, rb"^AT Alpha \S+ piped%d \+1\+1 %d\n$"
                             % (i, i + 1))
        f.close()
        self.assertEqual(self.herd["Alpha"].sqlite(
            "select count(*) from locations"), "%d\n" % n)

    def test_capture_of_a_tls_client(self):
        self.start_alpha()
        relay = Relay(self.herd.ports["Alpha"])
        self.addCleanup(relay.stop)
        c = self.tls(port=relay.port)
        c.send(b"IAMAT tapped-phone +12.345678-98.765432 1520023934.9\n")
        reply = c.read(200, timeout=5)
        self.assertIn(b"AT Alpha ", reply)
        self.assertIn(b"tapped-phone", reply)
        for secret in (b"tapped-phone", b"+12.345678", b"IAMAT", b"AT Alpha"):
            self.assertNotIn(secret, bytes(relay.captured))

    def test_client_tls_required(self):
        a = self.start_alpha("client_tls required\n")
        c = a.connect()
        try:
            c.send(b"IAMAT plain +1+1 5\n")
        except OSError:
            pass            # closed already
        self.assertTrue(c.closed(timeout=10))
        a.wait_log(r"disconnected \(plain client refused: client_tls "
                   r"required\)")
        c = self.tls()
        c.send(b"IAMAT viatls +1+1 5\n")
        self.assertIn(b"AT Alpha ", c.read(100, timeout=5))
        self.assertEqual(self.rows("Alpha").count("\n"), 1)

    def test_client_certificates(self):
        a = self.start_alpha("tls_client_ca_file ca.crt\n")
        d = self.herd.dir
        ok = self.tls("-cert", os.path.join(d, "client.crt"), "-key",
                      os.path.join(d, "client.key"))
        ok.send(b"IAMAT signed +1+1 5\n")
        self.assertIn(b"AT Alpha ", ok.read(100, timeout=5))
        a.wait_log(r"client certificate /CN=client")
        for args in ((), ("-cert", os.path.join(d, "stranger.crt"), "-key",
                          os.path.join(d, "stranger.key"))):
            with self.subTest(args=args):
                c = self.tls(*args)
                c.send(b"IAMAT unsigned +1+1 5\n")
                self.assertEqual(c.read(100, timeout=3), b"")
        a.wait_log(r"TLS handshake failed: TLS error: .*(certificate|"
                   r"verify)")
        a.wait_log(r"TLS client without a certificate refused: "
                   r"tls_client_ca_file requires one")
        self.assertEqual(self.herd["Alpha"].sqlite(
            "select client_id from locations"), "signed\n")

    def test_reload_under_load(self):
        """SIGHUP with a new certificate: open connections, plain and
        TLS, go on answering through it; new ones get the new one."""
        a = self.start_alpha()
        port = self.herd.ports["Alpha"]
        self.assertIn("CN = member1", server_subject(port))
        c = self.tls()
        plain = a.connect()
        stop = threading.Event()
        errors = []

        def load():
            i = 0
            while not stop.is_set():
                i += 1
                plain.send(b"IAMAT load%d +1+1 %d\n" % (i, i))
                line = plain.read_line()
                if not line.startswith(b"AT Alpha "):
                    errors.append(line)
                    return
        t = threading.Thread(target=load)
        t.start()
        try:
            d = self.herd.dir
            shutil.copy(os.path.join(d, "member2.crt"),
                        os.path.join(d, "member.crt"))
            shutil.copy(os.path.join(d, "member2.key"),
                        os.path.join(d, "member.key"))
            a.proc.send_signal(signal.SIGHUP)
            a.wait_log(r"SIGHUP: TLS certificate reloaded")
            c.send(b"IAMAT same-connection +1+1 5\n")
            self.assertIn(b"AT Alpha ", c.read(100, timeout=5))
            self.assertIn("CN = member2", server_subject(port))
        finally:
            stop.set()
            t.join(30)
        self.assertEqual(errors, [])
        # Both connections are still there, and still answer.
        plain.send(b"IAMAT after +1+1 5\n")
        self.assertTrue(plain.read_line().startswith(b"AT Alpha "))
        c.send(b"IAMAT after-tls +1+1 5\n")
        self.assertIn(b"AT Alpha ", c.read(100, timeout=5))

    def test_bad_certificate_on_reload_keeps_the_old(self):
        a = self.start_alpha()
        with open(os.path.join(self.herd.dir, "member.crt"), "w") as f:
            f.write("not a certificate\n")
        a.proc.send_signal(signal.SIGHUP)
        a.wait_log(r"SIGHUP: certificates not reloaded, the old ones stay")
        self.assertIn("CN = member1",
                      server_subject(self.herd.ports["Alpha"]))


class Sniffing(TLSCase):
    """The first bytes of a connection decide plain or TLS; a connection
    whose first bytes never come, or never complete, does not hang."""
    extra = "client_idle_timeout 0.5\nline_timeout 0.5\n"

    def closed_saying(self, data, why):
        """Alpha closes a connection that sent data, and logs why."""
        a = self.herd["Alpha"]
        c = a.connect()
        if data:
            c.send(data)
        self.assertTrue(c.closed(timeout=10))
        a.wait_log(r"disconnected \(%s\)" % why)

    def test_silent_connection_closed_after_idle_timeout(self):
        self.closed_saying(b"", r"idle timeout")

    def test_partial_client_hello_closed_after_line_timeout(self):
        self.closed_saying(b"\x16\x03", r"first bytes not complete within "
                           r"line_timeout")

    def test_tls_record_that_is_no_client_hello(self):
        self.closed_saying(b"\x16\x03\x03\x00\x30\x02" + b"\0" * 48,
                           r"its first bytes are a TLS record but no "
                           r"ClientHello")

    def test_tls_without_certificate_or_links(self):
        """A member with no links and no certificate serves no TLS."""
        self.closed_saying(b"\x16\x03\x01\x00\x30\x01" + b"\0" * 48,
                           r"TLS refused: this member has no links and no "
                           r"tls_cert_file")


class LinkAddedLive(TLSCase):
    """Two members started without links get one on SIGHUP: they load
    the herd key then, and the link comes up over TLS under it, without
    a restart."""
    names = ("Alpha", "Beta")

    def test_link_up_over_tls(self):
        a, b = self.herd["Alpha"], self.herd["Beta"]
        pids = (a.proc.pid, b.proc.pid)
        self.herd.write_conf(self.names, (("Alpha", "Beta"),), self.extra)
        for m in (a, b):
            m.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.link_up("Alpha") and self.link_up("Beta"),
                 30, "the link up at both ends")
        self.assert_psk_tls(a, b)
        a.ask(b"IAMAT added-live +1+1 5\n")
        wait_for(lambda: "added-live" in self.rows("Beta"), 30,
                 "the update at Beta")
        self.assertEqual((a.proc.pid, b.proc.pid), pids)


@unittest.skipUnless(OPENSSL, "no openssl command")
class LinksBesideClientCertificates(TLSCase):
    """Client certificates required on both members: their link, which
    proves the herd key and shows no certificate, still comes up."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def test_link_up(self):
        make_pki(self.herd.dir)
        with open(self.herd.conf, "a") as f:
            f.write("tls_cert_file member1.crt\ntls_key_file member1.key\n"
                    "tls_client_ca_file ca.crt\nclient_tls required\n")
        for m in ("Alpha", "Beta"):
            self.herd[m].start()
        wait_for(lambda: self.link_up("Alpha") and self.link_up("Beta"),
                 30, "the link up")
        c = TLSClient(self.herd.ports["Beta"], "-cert",
                      os.path.join(self.herd.dir, "client.crt"), "-key",
                      os.path.join(self.herd.dir, "client.key"))
        self.addCleanup(c.close)
        c.send(b"IAMAT certified +1+1 5\n")
        self.assertIn(b"AT Beta ", c.read(100, timeout=5))
        wait_for(lambda: "certified" in self.rows("Alpha"), 30,
                 "the update at Alpha")


class StalledHandshake(TLSCase):
    """A ClientHello's first record, then nothing: the TLS handshake is
    bounded by line_timeout, as a line is."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    extra = TLSCase.extra + "line_timeout 0.5\n"
    start = False

    def test_closed_after_line_timeout(self):
        a = self.herd["Alpha"].start()
        c = a.connect()
        c.send(b"\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03")
        self.assertTrue(c.closed(timeout=10))
        a.wait_log(r"TLS handshake failed: not done within line_timeout")


@unittest.skipUnless(OPENSSL, "no openssl command")
class PlacesStillVerified(TLSCase):
    """The member's own TLS does not touch libcurl's: a Places server
    whose certificate nobody signed is refused, with TLS links and a
    member certificate configured."""
    names = ("Alpha", "Beta")
    links = (("Alpha", "Beta"),)
    start = False

    def test_self_signed_places_server_refused(self):
        import http.server
        import ssl
        d = self.herd.dir
        make_pki(d)
        hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.path)
                body = b'{"places": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "stranger.crt"),
                            os.path.join(d, "stranger.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        with open(self.herd.conf, "a") as f:
            f.write("tls_cert_file member1.crt\ntls_key_file member1.key\n"
                    "places_provider google\nplaces_url "
                    "https://127.0.0.1:%d/v1/places:searchNearby\n" %
                    srv.server_address[1])
        a = self.herd["Alpha"].start(env={"HERD_PLACES_KEY": "k" * 20})
        a.ask(b"IAMAT kiwi +34.068930-118.445127 5\n")
        reply = a.ask(b"WHATSAT kiwi 10 5\n")
        self.assertTrue(reply.startswith(b"AT Alpha "), reply)
        self.assertNotIn(b'"status": "OK"', reply)
        self.assertRegex(reply, rb"(?i)certificate|SSL")
        self.assertEqual(hits, [])


if __name__ == "__main__":
    main()
