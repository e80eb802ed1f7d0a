"""WHATSAT through the local provider: a SQLite places database filled by
herd-places, read by a real member, with no key and no network.

Places are put at known great-circle distances and bearings from the
client, so each test knows which ones a circle holds.
"""

import glob
import math
import os
import re
import signal
import sqlite3
import subprocess
import time
import unittest

from herdtest import (EXIT_CONFIG, KIWI, PLACES, SRCDIR, FakePlaces,
                      HerdTestCase, herd_places, main, places_csv,
                      split_whatsat)

EARTH_KM = 6371.0088
KIWI_LAT, KIWI_LNG = 34.068930, -118.445127


def destination(lat, lng, km, bearing):
    """The point km away from (lat, lng) at bearing degrees."""
    p1, l1 = math.radians(lat), math.radians(lng)
    d, th = km / EARTH_KM, math.radians(bearing)
    p2 = math.asin(math.sin(p1) * math.cos(d) +
                   math.cos(p1) * math.sin(d) * math.cos(th))
    l2 = l1 + math.atan2(math.sin(th) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    return (round(math.degrees(p2), 7),
            round((math.degrees(l2) + 540) % 360 - 180, 7))


def place(pid, name, km, bearing=0, prominence=0, lat=KIWI_LAT,
          lng=KIWI_LNG, types="point_of_interest", vicinity=""):
    la, lo = destination(lat, lng, km, bearing)
    return (pid, name, repr(la), repr(lo), types, vicinity, prominence)


class LocalCase(HerdTestCase):
    """A member with places_provider local and the places of rows()."""

    extra = "places_provider local\n"
    start = False

    def rows(self):
        return []

    def setUp(self):
        super().setUp()
        if self.rows():
            self.herd.import_places(self.rows())
        self.member = self.herd["Alpha"]

    def start_member(self):
        self.member.start()

    def iamat(self, location=b"+34.068930-118.445127", client=b"kiwi"):
        c = self.member.connect()
        c.send(b"IAMAT %s %s 1520023934.918963997\n" % (client, location))
        c.read_line()
        return c

    def whatsat(self, c, radius=b"10", bound=b"20", client=b"kiwi"):
        c.send(b"WHATSAT %s %s %s\n" % (client, radius, bound))
        return split_whatsat(c.read_whatsat())[1]

    def place_names(self, o):
        return [r["name"] for r in o["results"]]


class Query(LocalCase):
    def rows(self):
        return [
            place("in-1", "One km north", 1, 0),
            place("in-9", "Nine km east", 9.9, 90),
            place("out-north", "Ten point one km north", 10.1, 0),
            # Inside the 10 km circle's box, outside the circle.
            place("corner", "Box corner", 13.5, 45),
            place("in-sw", "Nine km south-west", 9.0, 225),
            place("far", "Far away", 3000, 10),
        ]

    def setUp(self):
        super().setUp()
        self.start_member()
        self.c = self.iamat()

    def test_inside_and_outside_the_radius(self):
        o = self.whatsat(self.c, b"10", b"20")
        self.assertEqual(o["status"], "OK")
        self.assertEqual(sorted(r["place_id"] for r in o["results"]),
                         ["in-1", "in-9", "in-sw"])
        o = self.whatsat(self.c, b"10.2", b"20")
        self.assertIn("out-north", [r["place_id"] for r in o["results"]])
        self.assertNotIn("corner", [r["place_id"] for r in o["results"]])

    def test_equal_prominence_nearest_first(self):
        o = self.whatsat(self.c, b"50", b"20")
        self.assertEqual([r["place_id"] for r in o["results"]],
                         ["in-1", "in-sw", "in-9", "out-north", "corner"])

    def test_bound(self):
        o = self.whatsat(self.c, b"50", b"2")
        self.assertEqual([r["place_id"] for r in o["results"]],
                         ["in-1", "in-sw"])
        o = self.whatsat(self.c, b"50", b"0")
        self.assertEqual(o, {"html_attributions": [], "results": [],
                             "status": "OK"})

    def test_zero_results(self):
        c = self.iamat(b"-45.000000+170.000000", b"sheep")
        o = self.whatsat(c, b"50", b"5", b"sheep")
        self.assertEqual(o["status"], "ZERO_RESULTS")
        self.assertEqual(o["results"], [])
        self.assertEqual(o["html_attributions"], [])
        self.assertIn("local, ZERO_RESULTS", self.member.log())


class InFlight(LocalCase):
    """Searches run in worker threads: many at once, and clients that go
    before their answers."""

    def rows(self):
        return [place("p%d" % i, "P%d" % i, 0.1 + i * 0.004, i % 360,
                      prominence=i % 7) for i in range(5000)]

    def test_many_pipelined_in_order(self):
        self.start_member()
        c = self.iamat()
        c.send(b"".join(b"WHATSAT kiwi %d %d\n" % (1 + i % 20, i % 21)
                        for i in range(300)))
        for i in range(300):
            o = split_whatsat(c.read_whatsat())[1]
            self.assertEqual(len(o["results"]), i % 21)

    def test_client_gone_mid_search(self):
        self.start_member()
        for _ in range(5):
            c = self.iamat()
            c.send(b"WHATSAT kiwi 20 20\n" * 200)
            c.close()
        o = self.whatsat(self.iamat(), b"1", b"3")
        self.assertEqual(len(o["results"]), 3)
        # Every member stops cleanly, no leak (checked in tearDown).


class Ranking(LocalCase):
    """Most prominent first, then nearest; the legacy result shape."""

    def rows(self):
        return [
            place("small-near", "Small near", 1, 0, prominence=10),
            place("big-far", "Big far", 8, 180, prominence=1000000,
                  types="locality; political", vicinity="Big County, CA"),
            place("mid", "Mid", 5, 90, prominence=5000),
            place("mid-near", "Mid nearer", 4, 270, prominence=5000),
        ]

    def setUp(self):
        super().setUp()
        self.herd.import_places([place("attr", "Attributed", 2, 0)], "-s",
                                "osm", "-a", "&copy; OpenStreetMap "
                                "contributors")
        self.start_member()
        self.c = self.iamat()

    def test_order(self):
        o = self.whatsat(self.c, b"10", b"20")
        self.assertEqual([r["place_id"] for r in o["results"]],
                         ["big-far", "mid-near", "mid", "small-near",
                          "attr"])

    def test_shape(self):
        o = self.whatsat(self.c, b"10", b"1")
        self.assertEqual(o["status"], "OK")
        r = o["results"][0]
        la, lo = destination(KIWI_LAT, KIWI_LNG, 8, 180)
        self.assertEqual(r, {
            "name": "Big far", "place_id": "big-far",
            "reference": "big-far", "vicinity": "Big County, CA",
            "geometry": {"location": {"lat": la, "lng": lo}},
            "types": ["locality", "political"]})
        # Only the attribution of the places shown.
        self.assertEqual(o["html_attributions"], [])
        o = self.whatsat(self.c, b"10", b"20")
        self.assertEqual(o["html_attributions"],
                         ["&copy; OpenStreetMap contributors"])


class Antimeridian(LocalCase):
    """Fiji's Taveuni lies on the 180th meridian."""

    def rows(self):
        return [
            place("east", "East of the line", 5, 90, lat=-16.8,
                  lng=179.98),
            place("west", "West of the line", 5, 270, lat=-16.8,
                  lng=179.98),
            place("far-west", "Far west", 60, 90, lat=-16.8, lng=179.98),
            ("zero", "Greenwich side", "-16.8", "-0.02", "", "", "0"),
        ]

    def test_both_sides(self):
        self.start_member()
        e = destination(-16.8, 179.98, 5, 90)
        self.assertLess(e[1], -179.9)   # really across the line
        c = self.iamat(b"-16.800000+179.980000", b"taveuni")
        o = self.whatsat(c, b"10", b"20", b"taveuni")
        self.assertEqual(sorted(r["place_id"] for r in o["results"]),
                         ["east", "west"])
        # And from the other side of the line.
        c = self.iamat(b"-16.800000-179.990000", b"boat")
        o = self.whatsat(c, b"10", b"20", b"boat")
        self.assertEqual(sorted(r["place_id"] for r in o["results"]),
                         ["east", "west"])


class Poles(LocalCase):
    def rows(self):
        return [
            place("across", "Across the pole", 15, 0, lat=89.95, lng=0),
            place("side", "Side", 8, 90, lat=89.95, lng=0),
            ("pole", "North Pole", "90", "0", "", "", "0"),
            place("south", "Amundsen-Scott", 1, 0, lat=-89.99, lng=139.27),
            place("too-far", "Too far", 30, 180, lat=89.95, lng=0),
        ]

    def test_north(self):
        self.start_member()
        la, lo = destination(89.95, 0, 15, 0)
        self.assertGreater(abs(lo), 90)     # on the far side of the pole
        c = self.iamat(b"+89.950000+0.000000", b"bear")
        o = self.whatsat(c, b"20", b"20", b"bear")
        self.assertEqual(sorted(r["place_id"] for r in o["results"]),
                         ["across", "pole", "side"])

    def test_south(self):
        self.start_member()
        c = self.iamat(b"-90.000000+0.000000", b"penguin")
        o = self.whatsat(c, b"5", b"20", b"penguin")
        self.assertEqual(self.place_names(o), ["Amundsen-Scott"])


class Geonames(LocalCase):
    """The README's example: the towns around UCLA, from libgeonames."""

    def test_kiwi(self):
        os.makedirs(os.path.dirname(self.herd.places_db))
        out = herd_places("import-geonames", self.herd.places_db)
        self.assertRegex(out.stderr, r"\d{5} places added, 0 replaced")
        self.start_member()
        c = self.member.connect()
        c.send(KIWI + b"\nWHATSAT kiwi.cs.ucla.edu 10 5\n")
        c.read_line()
        at, o = split_whatsat(c.read_whatsat())
        self.assertTrue(at.startswith(b"AT Alpha "))
        self.assertEqual(o["status"], "OK")
        self.assertEqual(self.place_names(o), ["Santa Monica", "Culver City",
                                         "West Hollywood", "Beverly Hills"])
        self.assertIn("GeoNames", o["html_attributions"][0])
        self.assertIn("CC BY 4.0", o["html_attributions"][0])
        r = o["results"][3]
        self.assertEqual(r["vicinity"], "California, United States of America")
        self.assertEqual(r["types"], ["locality", "political"])
        # Importing again replaces every city with itself.
        out = herd_places("import-geonames", self.herd.places_db)
        self.assertRegex(out.stderr, r" 0 places added, \d{5} replaced")


class Startup(LocalCase):
    """What the member does with the database it is given, at start."""

    def test_missing_database(self):
        self.member.start(wait=False)
        self.assertEqual(self.member.wait_exit(), EXIT_CONFIG)
        self.assertIn("places_db %s: no such places database (build it "
                      "with herd-places import-geonames" %
                      self.herd.places_db, self.member.log())

    def test_fallback_without_database(self):
        """places_fallback local with no key needs the database too."""
        self.herd.write_conf(["Alpha"], (), "places_provider google\n"
                             "places_fallback local\n")
        self.member.start(wait=False)
        self.assertEqual(self.member.wait_exit(), EXIT_CONFIG)
        self.assertIn("using places_fallback local", self.member.log())
        self.assertIn("no such places database", self.member.log())

    def test_not_a_places_database(self):
        os.makedirs(os.path.dirname(self.herd.places_db))
        with open(self.herd.places_db, "w") as f:
            f.write("just text, not SQLite at all\n" * 100)
        self.member.start(wait=False)
        self.assertEqual(self.member.wait_exit(), EXIT_CONFIG)
        self.assertIn("file is not a database", self.member.log())
        with sqlite3.connect(self.herd.places_db + "2") as db:
            db.execute("create table t (x)")
        self.herd.write_conf(["Alpha"], (), "places_db var/places.db2\n")
        self.member.start(wait=False)
        self.assertEqual(self.member.wait_exit(), EXIT_CONFIG)
        self.assertIn("not a herd places database", self.member.log())

    def test_unreadable_database(self):
        if os.geteuid() == 0:
            # root reads anything: a folder in its place cannot be read.
            os.makedirs(self.herd.places_db)
        else:
            self.herd.import_places([place("a", "A", 1)])
            os.chmod(self.herd.places_db, 0)
        self.member.start(wait=False)
        self.assertEqual(self.member.wait_exit(), EXIT_CONFIG)
        self.assertIn("places_db %s" % self.herd.places_db,
                      self.member.log())

    def test_path_with_uri_characters(self):
        """The database is opened by URI; its path is escaped."""
        db = os.path.join(self.herd.dir, "odd%41?x.db")
        self.herd.import_places([place("a", "Odd", 1)], db=db)
        self.herd.write_conf(["Alpha"], (), "places_db %s\n" % db)
        self.start_member()
        self.assertEqual(self.place_names(self.whatsat(self.iamat())),
                         ["Odd"])

    def test_no_provider_uses_default_database(self):
        """A topology without places_provider answers from var/places.db
        when there is one."""
        self.herd.import_places([place("a", "Nearby", 1)])
        self.herd.write_conf(["Alpha"])
        self.start_member()
        o = self.whatsat(self.iamat())
        self.assertEqual(self.place_names(o), ["Nearby"])

    def test_no_provider_no_database_still_starts(self):
        self.herd.write_conf(["Alpha"])
        self.start_member()
        o = self.whatsat(self.iamat())
        self.assertEqual(o["status"], "REQUEST_DENIED")
        self.assertIn("no places database at %s" % self.herd.places_db,
                      self.member.log())

    def test_database_replaced_while_running(self):
        self.herd.import_places([place("a", "Old", 1)])
        self.start_member()
        c = self.iamat()
        self.assertEqual(self.place_names(self.whatsat(c)), ["Old"])
        self.herd.import_places([place("a", "New", 1)])
        # The member looks for a new file at most once a second.
        deadline = time.monotonic() + 15
        while self.place_names(self.whatsat(c)) != ["New"]:
            self.assertLess(time.monotonic(), deadline, "never reopened")
            time.sleep(0.1)
        self.assertIn("replaced: reopened", self.member.log())


class Fallback(LocalCase):
    """places_fallback local: Google when a key is set, else local."""

    KEY = "AIzaFakeKey-0123456789abcdefghijklmnopq"

    def setUp(self):
        self.fake = FakePlaces(self.KEY)
        self.addCleanup(self.fake.stop)
        self.extra = ("places_provider google\nplaces_fallback local\n"
                      "places_url %s\n" % self.fake.new_url)
        super().setUp()
        self.herd.import_places([place("a", "Local place", 1)])

    def test_no_key_is_local(self):
        self.start_member()
        o = self.whatsat(self.iamat())
        self.assertEqual(self.place_names(o), ["Local place"])
        self.assertEqual(self.fake.stats()["requests"], 0)
        self.assertIn("using places_fallback local", self.member.log())

    def test_key_is_google(self):
        self.member.start(env={"HERD_PLACES_KEY": self.KEY})
        o = self.whatsat(self.iamat())
        self.assertEqual(o["status"], "OK")
        self.assertNotIn("Local place", self.place_names(o))
        self.assertEqual(self.fake.stats()["requests"], 1)


class Import(LocalCase):
    """herd-places import-csv: bad rows, idempotence, atomicity."""

    def count(self, db=None):
        with sqlite3.connect(db or self.herd.places_db) as d:
            return d.execute("select count(*) from places").fetchone()[0]

    def test_bad_rows(self):
        os.makedirs(os.path.dirname(self.herd.places_db))
        text = ("name,lat,lon,prominence,osm_type\n"   # 1
                "Good,34.07,-118.44,3,node\n"           # 2
                "Bad lat,91,-118.44,3,node\n"           # 3
                "Bad lon,34.07,east,3,node\n"           # 4
                "Short,34.07\n"                         # 5
                ",34.07,-118.44,1,node\n"               # 6
                "\"Multi\nline\",34.08,-118.44,2,way\n"  # 7-8
                "Bad quote\"s,34.07,-118.44,1,node\n"   # 9
                "Bad prominence,34.07,-118.44,lots,node\n"  # 10
                "\"Caf\xe9, quoted\",34.06,-118.44,,node\n"  # 11
                "\n"                                    # 12
                "Last,34.05,-118.44,1,node")            # 13, no newline
        path = os.path.join(self.herd.dir, "pois.csv")
        with open(path, "w") as f:
            f.write(text)
        out = herd_places("import-csv", self.herd.places_db, path)
        err = out.stderr
        self.assertIn("pois.csv:1: column 'osm_type' ignored", err)
        self.assertIn("pois.csv:3: bad lat '91' (-90 to 90): skipped", err)
        self.assertIn("pois.csv:4: bad lon 'east' (-180 to 180): skipped",
                      err)
        self.assertIn("pois.csv:5: 2 fields, the header has 5: skipped",
                      err)
        self.assertIn("pois.csv:6: empty name: skipped", err)
        self.assertIn("pois.csv:9: quote inside an unquoted field: skipped",
                      err)
        self.assertIn("pois.csv:10: bad prominence 'lots' (a whole number, "
                      "0 to 2147483647): skipped", err)
        self.assertIn("6 bad records skipped", err)
        self.assertIn("4 places added, 0 replaced", err)
        self.assertEqual(self.count(), 4)
        self.start_member()
        o = self.whatsat(self.iamat())
        self.assertEqual(self.place_names(o), ["Good", "Multi\nline", "Last",
                                         "Caf\xe9, quoted"])

    def test_usage(self):
        for args in ((), ("import-csv", "db"), ("export", "db")):
            out = herd_places(*args, check=False)
            self.assertEqual(out.returncode, 64)
            self.assertIn("usage: herd-places", out.stderr)

    def test_not_utf8(self):
        os.makedirs(os.path.dirname(self.herd.places_db))
        path = os.path.join(self.herd.dir, "latin1.csv")
        with open(path, "wb") as f:
            f.write(b"name,lat,lon\nCaf\xe9,1,1\nOk,1,1\n")
        err = herd_places("import-csv", self.herd.places_db, path).stderr
        self.assertIn("latin1.csv:2: field 1 is not UTF-8: skipped", err)
        self.assertEqual(self.count(), 1)

    def test_no_header(self):
        os.makedirs(os.path.dirname(self.herd.places_db))
        out = herd_places("import-csv", self.herd.places_db, "-",
                          stdin="Somewhere,1,1\n", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no 'name' column", out.stderr)
        self.assertFalse(os.path.exists(self.herd.places_db))
        self.assertFalse(os.path.exists(self.herd.places_db + ".import"))

    def test_idempotent(self):
        rows = [place("a", "A", 1), place("b", "B", 2)]
        self.herd.import_places(rows)
        out = self.herd.import_places(rows)
        self.assertIn("0 places added, 2 replaced", out.stderr)
        self.assertEqual(self.count(), 2)
        # The same id replaces, wherever the place moved.
        self.herd.import_places([place("a", "A moved", 30, 90)])
        self.assertEqual(self.count(), 2)
        # Without an id, the same name at the same point is one place.
        no_id = "name,lat,lon\nC,34.07,-118.44\nC,34.07,-118.44\n"
        herd_places("import-csv", self.herd.places_db, "-", stdin=no_id)
        herd_places("import-csv", self.herd.places_db, "-", stdin=no_id)
        self.assertEqual(self.count(), 3)
        self.start_member()
        o = self.whatsat(self.iamat(), b"10")
        self.assertEqual(sorted(self.place_names(o)), ["B", "C"])
        o = self.whatsat(self.iamat(), b"31")
        self.assertIn("A moved", self.place_names(o))

    def test_interrupted_import_leaves_the_old_database(self):
        self.herd.import_places([place("old", "Old", 1)])
        with open(self.herd.places_db, "rb") as f:
            before = f.read()
        self.start_member()
        c = self.iamat()
        # An import that reads from a pipe, killed half way: after its
        # first progress line, while it waits for more input.
        p = subprocess.Popen([PLACES, "import-csv", self.herd.places_db,
                              "-"], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            rows = [place("new%d" % i, "New %d" % i, 1 + i % 9, i % 360)
                    for i in range(60000)]
            p.stdin.write(places_csv(rows).encode())
            p.stdin.flush()
            line = p.stderr.readline()
            self.assertIn(b"line 50000", line)
            # A second import of the same database waits for none.
            out = herd_places("import-csv", self.herd.places_db, "-",
                              stdin=places_csv(rows[:1]), check=False)
            self.assertEqual(out.returncode, 1)
            self.assertIn("another import into this database is running",
                          out.stderr)
            p.send_signal(signal.SIGKILL)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stderr.close()
        with open(self.herd.places_db, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.place_names(self.whatsat(c)), ["Old"])
        # The next import goes through, over the killed one's copy.
        self.assertTrue(os.path.exists(self.herd.places_db + ".import"))
        self.herd.import_places([place("next", "Next", 2)])
        self.assertFalse(os.path.exists(self.herd.places_db + ".import"))
        self.assertEqual(self.count(), 2)


class Layers(unittest.TestCase):
    """Providers report through callbacks and know nothing of clients;
    herd-places has no event loop, network or Places provider in it."""

    def includes(self, path):
        with open(path) as f:
            return set(re.findall(r'^#include [<"]([^>"]+)[>"]', f.read(),
                                  re.M))

    def test_providers_know_no_clients(self):
        files = glob.glob(os.path.join(SRCDIR, "src", "places*.[ch]"))
        self.assertGreaterEqual(len(files), 7)
        for path in files:
            inc = self.includes(path)
            for banned in ("client.h", "reply.h", "server.h", "cmd.h"):
                self.assertNotIn(banned, inc, path)

    def test_herd_places_has_no_event_loop(self):
        inc = self.includes(os.path.join(SRCDIR, "src", "herd-places.c"))
        for h in inc:
            self.assertFalse(h.startswith(("event2/", "curl/")), h)
            self.assertNotIn(h, ("places.h", "server.h", "store.h"))


if __name__ == "__main__":
    main()
