"""WHATSAT through both Places providers, against tests/fake_places.py.

The code under test is the member's own: libcurl on its event loop,
Jansson, the New-to-legacy mapping.  Only Google is replaced.
"""

import json
import math
import os
import select
import socket
import struct
import time

from herdtest import (EXIT_CONFIG, KIWI, FakePlaces, HerdTestCase, main,
                      split_whatsat)

KEY = "AIzaFakeKey-0123456789abcdefghijklmnopq"
KIWI_LAT, KIWI_LNG = 34.068930, -118.445127
FIELD_MASK = ("places.id,places.displayName,places.formattedAddress,"
              "places.shortFormattedAddress,places.location,places.viewport,"
              "places.types,places.rating,places.userRatingCount,"
              "places.businessStatus,places.regularOpeningHours,"
              "places.priceLevel,places.plusCode,places.iconMaskBaseUri,"
              "places.iconBackgroundColor")


def km_between(lat1, lng1, lat2, lng2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = (math.sin(dp / 2) ** 2 +
         math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2)
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


class PlacesCase(HerdTestCase):
    provider = "google"
    timeout = "2"
    key_env = {"HERD_PLACES_KEY": KEY}   # the member's environment
    extra_conf = ""

    def setUp(self):
        self.fake = FakePlaces(KEY)
        self.addCleanup(self.fake.stop)
        url = (self.fake.new_url if self.provider == "google"
               else self.fake.legacy_url)
        self.extra = ("places_provider %s\nplaces_url %s\n"
                      "places_timeout %s\nplaces_connect_timeout 1\n" %
                      (self.provider, url, self.timeout)) + self.extra_conf
        self.env = self.key_env
        super().setUp()
        self.hello()

    def hello(self):
        """Connect, report kiwi's location, and keep its stored AT line
        (a restarted member keeps the first one)."""
        self.c = self.herd["Alpha"].connect()
        self.c.send(KIWI + b"\nWHATSAT kiwi.cs.ucla.edu 1 0\n")
        self.c.read_line()
        self.at = self.c.read_whatsat().split(b"\n")[0] + b"\n"

    def whatsat(self, radius=b"10", bound=b"5", conn=None):
        c = conn or self.c
        c.send(b"WHATSAT kiwi.cs.ucla.edu %s %s\n" % (radius, bound))
        at, o = split_whatsat(c.read_whatsat())
        self.assertEqual(at, self.at)
        return o

    def assertFailure(self, o, status, message):
        self.assertEqual(o["status"], status, o)
        self.assertEqual(o["results"], [])
        self.assertEqual(o["html_attributions"], [])
        self.assertIn(message, o["error_message"])
        # The connection carries on.
        self.c.send(b"YOLO\n")
        self.assertEqual(self.c.read_line(), b"? YOLO\n")

    def assertKeyNowhere(self, *texts):
        for t in texts + (self.herd["Alpha"].log(),):
            self.assertNotIn(KEY, t if isinstance(t, str) else t.decode())


class Google(PlacesCase):
    """The Places API (New)."""
    timeout = "4"

    def assertInFlight(self, cap):
        """The fake saw the cap reached, and not passed by more than the
        few requests the member sends in the instant between reading an
        answer and the fake counting that request done."""
        seen = self.fake.stats()["max_in_flight"]
        self.assertGreaterEqual(seen, cap)
        self.assertLessEqual(seen, cap + 4)

    def test_results(self):
        o = self.whatsat(b"10", b"5")
        self.assertEqual(o["status"], "OK")
        self.assertEqual(len(o["results"]), 5)
        for r in o["results"]:
            for k in ("name", "place_id", "vicinity", "types", "rating",
                      "user_ratings_total", "business_status", "geometry"):
                self.assertIn(k, r)
            loc = r["geometry"]["location"]
            self.assertLessEqual(km_between(KIWI_LAT, KIWI_LNG, loc["lat"],
                                            loc["lng"]), 10.0)
        self.assertEqual(o["results"][0]["name"], "Fake Place 0")
        self.assertEqual(o["results"][0]["place_id"], "ChIJfake000000")
        self.assertEqual(o["results"][0]["vicinity"],
                         "100 Mock Ave, Los Angeles")

    def test_request_is_what_google_wants(self):
        self.whatsat(b"10.5871263", b"7")
        last = self.fake.stats()["last"]
        self.assertEqual(last["method"], "POST")
        self.assertEqual(last["path"], "/v1/places:searchNearby")
        self.assertEqual(last["headers"]["x-goog-api-key"], KEY)
        self.assertEqual(last["headers"]["x-goog-fieldmask"], FIELD_MASK)
        self.assertEqual(last["headers"]["content-type"], "application/json")
        self.assertEqual(json.loads(last["body"]), {
            "locationRestriction": {"circle": {
                "center": {"latitude": KIWI_LAT, "longitude": KIWI_LNG},
                "radius": 10587.1263}},
            "maxResultCount": 7})

    def test_bounds(self):
        self.assertEqual(len(self.whatsat(b"50", b"20")["results"]), 20)
        self.assertEqual(len(self.whatsat(b"0.5", b"1")["results"]), 1)
        requests = self.fake.stats()["requests"]
        o = self.whatsat(b"10", b"0")
        self.assertEqual(o, {"html_attributions": [], "results": [],
                             "status": "OK"})
        self.assertEqual(self.fake.stats()["requests"], requests)

    def test_zero_results(self):
        self.fake.mode(empty=1)
        o = self.whatsat()
        self.assertEqual(o["status"], "ZERO_RESULTS")
        self.assertEqual(o["results"], [])

    def test_http_errors(self):
        for code, status in ((400, "INVALID_REQUEST"),
                             (403, "REQUEST_DENIED"),
                             (429, "OVER_QUERY_LIMIT"),
                             (500, "UNKNOWN_ERROR"),
                             (503, "UNKNOWN_ERROR")):
            with self.subTest(code=code):
                self.fake.mode(fail=code)
                self.assertFailure(self.whatsat(), status,
                                   "Fake failure %d. (HTTP %d" % (code, code))
        log = self.herd["Alpha"].log()
        self.assertRegex(log, r"places: kiwi.cs.ucla.edu: \S+, HTTP 429, "
                         r"OVER_QUERY_LIMIT: .* in \d+ ms")

    def test_garbage(self):
        self.fake.mode(garbage=1)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places answered HTTP 200 with a body that is "
                           "not a JSON object")

    def test_closed_mid_body(self):
        self.fake.mode(truncate=1)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places request failed")

    def test_too_large(self):
        self.fake.mode(huge=1)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places answer larger than 2097152 bytes")

    def test_timeout(self):
        self.fake.mode(delay=8)
        start = time.monotonic()
        o = self.whatsat()
        self.assertLess(time.monotonic() - start, 7.5)
        self.assertFailure(o, "UNKNOWN_ERROR", "Places request timed out")
        self.assertRegex(self.herd["Alpha"].log(),
                         r"UNKNOWN_ERROR: Places request timed out.* in "
                         r"\d+ ms")

    def test_key_never_leaks(self):
        o = self.whatsat()
        self.assertEqual(o["status"], "OK")
        self.fake.mode(fail=400)
        self.whatsat()
        with open("/proc/%d/cmdline" % self.herd["Alpha"].proc.pid,
                  "rb") as f:
            self.assertKeyNowhere(f.read())

    def test_slow_whatsat_then_fast_iamat(self):
        """Replies keep command order on a connection, and the member
        serves others while a Places request is in flight."""
        self.fake.mode(delay=1.5)
        self.c.send(b"WHATSAT kiwi.cs.ucla.edu 10 3\nIAMAT fast +1+1 5\n")
        other = self.herd["Alpha"].connect()
        other.send(b"IAMAT other +2+2 6\n")
        self.assertRegex(other.read_line(), rb"^AT Alpha \S+ other ")
        # The IAMAT on the first connection is committed already, but its
        # reply waits behind the WHATSAT's.
        self.assertEqual(self.herd["Alpha"].sqlite(
            "select client_time from locations where client_id = 'fast'"),
            "5\n")
        ready, _, _ = select.select([self.c.sock], [], [], 0)
        self.assertEqual(ready, [], "a reply overtook the slow WHATSAT")
        at, o = split_whatsat(self.c.read_whatsat())
        self.assertEqual(at, self.at)
        self.assertEqual(len(o["results"]), 3)
        self.assertRegex(self.c.read_line(), rb"^AT Alpha \S+ fast ")

    def test_200_in_flight(self):
        """200 WHATSATs against a slow fake are all in flight at once
        (from 8 connections: one may have 32 with the provider)."""
        self.fake.mode(delay=1.5)
        conns = [self.herd["Alpha"].connect() for _ in range(8)]
        for c in conns:
            c.send(b"WHATSAT kiwi.cs.ucla.edu 10 2\n" * 25)
        for c in conns:
            for _ in range(25):
                at, o = split_whatsat(c.read_whatsat())
                self.assertEqual(at, self.at)
                self.assertEqual(o["status"], "OK")
                self.assertEqual(len(o["results"]), 2)
        self.assertEqual(self.fake.stats()["max_in_flight"], 200)

    def test_one_connection_bounded(self):
        """One connection pipelining 100 WHATSATs has at most 32 of them
        with the provider at once; all are answered, in order."""
        self.fake.mode(delay=0.5)
        c = self.herd["Alpha"].connect(timeout=30)
        c.send(b"".join(b"WHATSAT kiwi.cs.ucla.edu 10 %d\n" % (1 + i % 3)
                        for i in range(100)))
        for i in range(100):
            at, o = split_whatsat(c.read_whatsat())
            self.assertEqual(o["status"], "OK")
            self.assertEqual(len(o["results"]), 1 + i % 3)
        self.assertInFlight(32)

    def test_connections_bounded(self):
        """300 WHATSATs at once: at most 256 connections to the provider
        at a time (the rest wait their turn and are answered), and few
        kept open afterwards."""
        self.fake.mode(delay=1)
        conns = [self.herd["Alpha"].connect(timeout=30) for _ in range(10)]
        for c in conns:
            c.send(b"WHATSAT kiwi.cs.ucla.edu 10 1\n" * 30)
        for c in conns:
            for _ in range(30):
                at, o = split_whatsat(c.read_whatsat())
                self.assertEqual(o["status"], "OK")
        self.assertInFlight(256)
        pid = self.herd["Alpha"].proc.pid
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        port = ":%04X" % self.fake.port
        to_fake = 0
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[2].endswith(port) and cols[9] in inodes:
                    to_fake += 1
        self.assertLessEqual(to_fake, 16)

    def test_connection_reuse(self):
        for _ in range(5):
            self.assertEqual(self.whatsat()["status"], "OK")
        stats = self.fake.stats()
        self.assertEqual(stats["requests"], 5)
        self.assertEqual(stats["connections"], 1)

    def test_client_gone_mid_request(self):
        """A client that resets its connection cancels its request."""
        self.fake.mode(delay=2)
        c = self.herd["Alpha"].connect()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.send(b"WHATSAT kiwi.cs.ucla.edu 10 5\n")
        deadline = time.monotonic() + 5
        while self.fake.stats()["requests"] == 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        c.close()
        deadline = time.monotonic() + 5
        while "cancelled" not in self.herd["Alpha"].log():
            self.assertLess(time.monotonic(), deadline, "not cancelled")
            time.sleep(0.02)
        # The member carries on; tearDown checks for leaks at exit.
        self.fake.mode()
        self.assertEqual(self.whatsat()["status"], "OK")

    def test_client_eof_mid_request(self):
        """A client that half-closes still gets its answer."""
        self.fake.mode(delay=0.5)
        reply = self.herd["Alpha"].ask(b"WHATSAT kiwi.cs.ucla.edu 10 4")
        at, o = split_whatsat(reply)
        self.assertEqual(len(o["results"]), 4)


class SlowProviderIdle(PlacesCase):
    """A client waiting for a slow provider is not idle: it waits for the
    member, and client_idle_timeout is about the client."""
    extra_conf = "client_idle_timeout 1\n"
    timeout = "5"

    def test_waiting_is_not_idle(self):
        self.fake.mode(delay=2.5)
        o = self.whatsat(b"10", b"2")
        self.assertEqual(o["status"], "OK")
        self.assertNotIn("idle timeout", self.herd["Alpha"].log())


class WrongKey(PlacesCase):
    key_env = {"HERD_PLACES_KEY": "not-the-key-0123456789"}

    def test_wrong_key(self):
        o = self.whatsat()
        self.assertFailure(o, "REQUEST_DENIED", "API key not valid")
        self.assertNotIn("not-the-key-0123456789", self.herd["Alpha"].log())


class NoKey(PlacesCase):
    key_env = {}

    def test_no_key(self):
        self.assertFailure(self.whatsat(), "REQUEST_DENIED",
                           "no Places API key configured (set "
                           "HERD_PLACES_KEY or places_key_file)")
        self.assertEqual(self.fake.stats()["requests"], 0)
        self.assertIn("warning: places: no API key", self.herd["Alpha"].log())


class KeyFile(PlacesCase):

    def setUp(self):
        super().setUp()
        self.key_file = os.path.join(self.herd.dir, "places.key")
        with open(self.key_file, "w") as f:
            f.write(KEY + "\n")
        with open(self.herd.conf, "a") as f:
            f.write("places_key_file places.key\n")
        self.herd["Alpha"].stop()

    def test_key_file(self):
        m = self.herd["Alpha"]
        m.start(env={})
        self.hello()
        self.assertEqual(self.whatsat()["status"], "OK")
        self.assertEqual(self.fake.stats()["last"]["headers"]
                         ["x-goog-api-key"], KEY)

    def test_unreadable_key_file(self):
        os.unlink(self.key_file)
        m = self.herd["Alpha"]
        m.start(env={}, wait=False)
        self.assertEqual(m.wait_exit(), EXIT_CONFIG)
        self.assertIn("places_key_file %s: No such file or directory" %
                      self.key_file, m.log())


class Unreachable(PlacesCase):
    """A Places server that refuses connections."""

    def setUp(self):
        super().setUp()
        # Nothing listens on the fake's port any more.
        self.fake.stop()

    def test_refused(self):
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places request failed")


class ConnectTimeout(PlacesCase):
    """A Places server that never completes the TCP handshake: its accept
    queue is full, so the kernel drops further SYNs."""
    timeout = "6"

    def setUp(self):
        self.blackhole = socket.socket()
        self.blackhole.bind(("127.0.0.1", 0))
        self.blackhole.listen(0)
        self.addCleanup(self.blackhole.close)
        self.fillers = []
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(self.blackhole.getsockname())
            self.fillers.append(f)
            self.addCleanup(f.close)
        time.sleep(0.2)
        super().setUp()
        port = self.blackhole.getsockname()[1]
        with open(self.herd.conf, "a") as f:
            f.write("places_url http://127.0.0.1:%d/v1/places:searchNearby\n"
                    % port)
        m = self.herd["Alpha"]
        m.stop()
        m.start()
        self.hello()

    def test_connect_timeout(self):
        start = time.monotonic()
        o = self.whatsat()
        # places_connect_timeout is 1 s, far below places_timeout.
        self.assertLess(time.monotonic() - start, 5)
        self.assertFailure(o, "UNKNOWN_ERROR", "Places request timed out")
        self.assertIn("connect", o["error_message"].lower())


class HostName(PlacesCase):
    """A URL with a host name goes through curl's asynchronous resolver."""

    def setUp(self):
        super().setUp()
        with open(self.herd.conf, "a") as f:
            f.write("places_url http://localhost:%d/v1/places:searchNearby\n"
                    % self.fake.port)
        m = self.herd["Alpha"]
        m.stop()
        m.start()
        self.hello()

    def test_localhost(self):
        self.assertEqual(self.whatsat()["status"], "OK")
        self.assertIn("http://localhost:%d/" % self.fake.port,
                      self.herd["Alpha"].log())


class Legacy(PlacesCase):
    """The legacy Nearby Search."""
    provider = "google-legacy"

    def test_results_cut_to_bound(self):
        o = self.whatsat(b"10", b"3")
        self.assertEqual(o["status"], "OK")
        self.assertEqual([r["name"] for r in o["results"]],
                         ["Fake Place 0", "Fake Place 1", "Fake Place 2"])
        self.assertEqual(o["next_page_token"], "FakeNextPageToken")
        for r in o["results"]:
            loc = r["geometry"]["location"]
            self.assertLessEqual(km_between(KIWI_LAT, KIWI_LNG, loc["lat"],
                                            loc["lng"]), 10.0)

    def test_request(self):
        self.whatsat(b"2.5", b"3")
        last = self.fake.stats()["last"]
        self.assertEqual(last["method"], "GET")
        self.assertEqual(last["query"], {
            "location": ["34.068930,-118.445127"], "radius": ["2500"],
            "key": [KEY]})
        self.herd["Alpha"].wait_log(r"key=REDACTED")
        self.assertKeyNowhere()

    def test_statuses(self):
        for status, message in (("OVER_QUERY_LIMIT",
                                  "Places answered OVER_QUERY_LIMIT"),
                                ("REQUEST_DENIED", "Fake REQUEST_DENIED."),
                                ("INVALID_REQUEST", "Fake INVALID_REQUEST."),
                                ("UNKNOWN_ERROR",
                                 "Places answered UNKNOWN_ERROR")):
            with self.subTest(status=status):
                self.fake.mode(legacy_status=status)
                self.assertFailure(self.whatsat(), status, message)

    def test_zero_results(self):
        self.fake.mode(empty=1)
        o = self.whatsat()
        self.assertEqual(o["status"], "ZERO_RESULTS")
        self.assertEqual(o["results"], [])
        self.assertNotIn("error_message", o)

    def test_error_message_cannot_forge_log_lines(self):
        """A provider's error_message with a newline, an escape sequence
        and the API key: the log gets it escaped on one line, and the key
        reaches neither the client nor the log."""
        self.fake.mode(legacy_status="REQUEST_DENIED",
                       message="key %s is bad\ninfo: forged\x1b[31m" % KEY)
        o = self.whatsat()
        self.assertEqual(o["status"], "REQUEST_DENIED")
        self.assertIn("key REDACTED is bad\ninfo: forged", o["error_message"])
        log = self.herd["Alpha"].log()
        self.assertNotRegex(log, r"(?m)^info: forged")
        self.assertNotIn("\x1b", log)
        self.assertRegex(log, r"(?m)^warning: places: .*key REDACTED is "
                         r"bad\\ninfo: forged\\x1b\[31m")
        self.assertKeyNowhere(json.dumps(o))

    def test_http_500(self):
        self.fake.mode(fail=500)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places answered HTTP 500 with a body that is "
                           "not a JSON object")

    def test_garbage_and_truncation(self):
        self.fake.mode(garbage=1)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR", "not a JSON")
        self.fake.mode(truncate=1)
        self.assertFailure(self.whatsat(), "UNKNOWN_ERROR",
                           "Places request failed")


if __name__ == "__main__":
    main()
