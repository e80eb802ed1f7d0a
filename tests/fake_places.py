#!/usr/bin/env python3
"""fake_places: a small real HTTP server that answers like Google's Places
APIs, for the end-to-end tests (the test machines have no internet).

    fake_places.py --key KEY [--port 0]

prints the port it listens on, then serves:

  POST /v1/places:searchNearby             Places API (New)
  GET  /maps/api/place/nearbysearch/json   Nearby Search (legacy)

Answers are computed from the request: places spread inside the requested
circle around the requested point, as many as maxResultCount (New) or 20
(legacy, which ignores any bound), with only the fields of the field mask.
The key and the headers the real API requires are checked, with Google's
errors when they are wrong.

Tests steer it through GET /_fake/mode?NAME=VALUE&... (replaces the mode):
  delay=S            answer after S seconds
  fail=CODE          New: HTTP CODE with a google.rpc.Status body;
                     legacy: HTTP CODE with an HTML body
  legacy_status=S    legacy: answer status S with no results
  message=TEXT       legacy: the error_message that goes with it
  empty=1            no places ({} for New, ZERO_RESULTS for legacy)
  garbage=1          200 with a body that is not JSON
  truncate=1         close the connection half way through the body
  huge=1             a 3 MiB JSON body
and read GET /_fake/stats: counts of API requests and of the connections
that carried them, the most
requests in flight at once, and the last request seen.
"""

import argparse
import json
import math
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEW_PATH = "/v1/places:searchNearby"
LEGACY_PATH = "/maps/api/place/nearbysearch/json"
TYPES = [["cafe", "food"], ["restaurant", "food"], ["park"],
         ["library"], ["gas_station"], ["museum", "tourist_attraction"]]
RPC = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
       403: "PERMISSION_DENIED", 404: "NOT_FOUND",
       429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.mode = {}
        self.requests = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.last = None


def place_points(lat, lng, radius_m, count):
    """count points strictly inside the circle, spread on a spiral."""
    for i in range(count):
        d = radius_m * (i + 1) / (count + 1)
        b = math.radians(i * 137.5)
        dlat = d * math.cos(b) / 111320.0
        dlng = d * math.sin(b) / (111320.0 * max(math.cos(math.radians(lat)),
                                                 0.01))
        plat = max(-90.0, min(90.0, lat + dlat))
        plng = (lng + dlng + 180.0) % 360.0 - 180.0
        yield i, round(plat, 7), round(plng, 7)


def new_place(i, lat, lng):
    types = TYPES[i % len(TYPES)] + ["point_of_interest", "establishment"]
    return {
        "name": "places/ChIJfake%06d" % i,
        "id": "ChIJfake%06d" % i,
        "displayName": {"text": "Fake Place %d" % i, "languageCode": "en"},
        "types": types,
        "formattedAddress": "%d Mock Ave, Los Angeles, CA 90024, USA" % (
            100 + i),
        "shortFormattedAddress": "%d Mock Ave, Los Angeles" % (100 + i),
        "location": {"latitude": lat, "longitude": lng},
        "viewport": {"low": {"latitude": lat - 0.001,
                             "longitude": lng - 0.001},
                     "high": {"latitude": lat + 0.001,
                              "longitude": lng + 0.001}},
        "rating": round(3.0 + (i % 20) / 10.0, 1),
        "userRatingCount": 10 * i + 1,
        "businessStatus": "OPERATIONAL",
        "regularOpeningHours": {"openNow": i % 2 == 0},
        "priceLevel": "PRICE_LEVEL_MODERATE",
        "iconMaskBaseUri":
            "https://maps.gstatic.com/mapfiles/place_api/icons/v2/generic_pinlet",
        "iconBackgroundColor": "#7B9EB0",
    }


def legacy_place(i, lat, lng):
    types = TYPES[i % len(TYPES)] + ["point_of_interest", "establishment"]
    return {
        "business_status": "OPERATIONAL",
        "geometry": {"location": {"lat": lat, "lng": lng},
                     "viewport": {"northeast": {"lat": lat + 0.001,
                                                "lng": lng + 0.001},
                                  "southwest": {"lat": lat - 0.001,
                                                "lng": lng - 0.001}}},
        "icon": "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/generic_business-71.png",
        "name": "Fake Place %d" % i,
        "opening_hours": {"open_now": i % 2 == 0},
        "place_id": "ChIJfake%06d" % i,
        "rating": round(3.0 + (i % 20) / 10.0, 1),
        "reference": "ChIJfake%06d" % i,
        "scope": "GOOGLE",
        "types": types,
        "user_ratings_total": 10 * i + 1,
        "vicinity": "%d Mock Ave, Los Angeles" % (100 + i),
    }


def masked(place, mask):
    if mask.strip() == "*":
        return place
    fields = [f.strip() for f in mask.split(",")]
    keep = {f[len("places."):] for f in fields if f.startswith("places.")}
    return {k: v for k, v in place.items() if k in keep}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    # -- plumbing --------------------------------------------------------

    def send(self, code, body, ctype="application/json; charset=UTF-8",
             api=True):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, indent=2).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if api and self.state.mode.get("truncate"):
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def rpc_error(self, code, message, reason=None):
        err = {"code": code, "message": message,
               "status": RPC.get(code, "UNKNOWN")}
        if reason:
            err["details"] = [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason, "domain": "googleapis.com"}]
        self.send(code, {"error": err})

    def begin(self, body=b""):
        url = urllib.parse.urlsplit(self.path)
        with self.state.lock:
            # One handler serves one connection, keep-alive included:
            # count the connections that carried API requests.
            if not getattr(self, "counted", False):
                self.counted = True
                self.state.connections += 1
            self.state.requests += 1
            self.state.in_flight += 1
            self.state.max_in_flight = max(self.state.max_in_flight,
                                           self.state.in_flight)
            self.state.last = {
                "method": self.command, "path": url.path,
                "query": urllib.parse.parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace")}
            mode = dict(self.state.mode)
        if "delay" in mode:
            time.sleep(float(mode["delay"]))
        return mode

    def end(self):
        with self.state.lock:
            self.state.in_flight -= 1

    def common_modes(self, mode):
        """The modes that answer the same way for both APIs."""
        if mode.get("garbage"):
            self.send(200, "<html><body>Oops, not JSON", "text/html")
            return True
        if mode.get("huge"):
            self.send(200, {"places": [], "padding": "x" * (3 << 20)})
            return True
        return False

    # -- the APIs ----------------------------------------------------------

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_fake/mode":
            q = urllib.parse.parse_qs(url.query)
            with self.state.lock:
                self.state.mode = {k: v[0] for k, v in q.items()}
            self.send(200, {"mode": self.state.mode}, api=False)
        elif url.path == "/_fake/stats":
            with self.state.lock:
                self.send(200, {
                    "requests": self.state.requests,
                    "connections": self.state.connections,
                    "max_in_flight": self.state.max_in_flight,
                    "last": self.state.last}, api=False)
        elif url.path == LEGACY_PATH:
            mode = self.begin()
            try:
                self.legacy(mode, urllib.parse.parse_qs(url.query))
            finally:
                self.end()
        else:
            self.send(404, "not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if urllib.parse.urlsplit(self.path).path != NEW_PATH:
            self.send(404, "not found", "text/plain")
            return
        mode = self.begin(body)
        try:
            self.new(mode, body)
        finally:
            self.end()

    def new(self, mode, body):
        if "fail" in mode:
            code = int(mode["fail"])
            self.rpc_error(code, "Fake failure %d." % code)
            return
        if self.common_modes(mode):
            return
        if self.headers.get("X-Goog-Api-Key") != self.state.key:
            self.rpc_error(400, "API key not valid. Please pass a valid "
                           "API key.", "API_KEY_INVALID")
            return
        mask = self.headers.get("X-Goog-FieldMask")
        if not mask:
            self.rpc_error(400, "FieldMask is a required parameter. See "
                           "https://cloud.google.com/apis/docs/"
                           "system-parameters on how to provide it.")
            return
        if not (self.headers.get("Content-Type") or "").startswith(
                "application/json"):
            self.rpc_error(400, "Invalid Content-Type.")
            return
        try:
            req = json.loads(body)
            circle = req["locationRestriction"]["circle"]
            lat = float(circle["center"]["latitude"])
            lng = float(circle["center"]["longitude"])
            radius = float(circle["radius"])
            count = int(req.get("maxResultCount", 20))
        except (ValueError, KeyError, TypeError):
            self.rpc_error(400, "Invalid JSON payload received.")
            return
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            self.rpc_error(400, "Invalid location.")
            return
        if not 0 < radius <= 50000:
            self.rpc_error(400, "Invalid radius: must be in (0, 50000].")
            return
        if not 1 <= count <= 20:
            self.rpc_error(400, "maxResultCount must be between 1 and 20.")
            return
        if mode.get("empty"):
            self.send(200, {})
            return
        places = [masked(new_place(i, plat, plng), mask)
                  for i, plat, plng in place_points(lat, lng, radius, count)]
        self.send(200, {"places": places})

    def legacy(self, mode, q):
        if "fail" in mode:
            self.send(int(mode["fail"]), "<html><body>Server Error</body>"
                      "</html>", "text/html")
            return
        if self.common_modes(mode):
            return
        base = {"html_attributions": [], "results": []}
        if "legacy_status" in mode:
            status = mode["legacy_status"]
            out = dict(base, status=status)
            if status in ("REQUEST_DENIED", "INVALID_REQUEST"):
                out["error_message"] = mode.get("message",
                                                "Fake %s." % status)
            self.send(200, out)
            return
        if q.get("key", [None])[0] != self.state.key:
            self.send(200, dict(base, status="REQUEST_DENIED",
                                error_message="The provided API key is "
                                "invalid."))
            return
        try:
            lat, lng = (float(x) for x in q["location"][0].split(","))
            radius = float(q["radius"][0])
        except (KeyError, ValueError):
            self.send(200, dict(base, status="INVALID_REQUEST"))
            return
        if not (-90 <= lat <= 90 and -180 <= lng <= 180 and
                0 < radius <= 50000):
            self.send(200, dict(base, status="INVALID_REQUEST"))
            return
        if mode.get("empty"):
            self.send(200, dict(base, status="ZERO_RESULTS"))
            return
        results = [legacy_place(i, plat, plng)
                   for i, plat, plng in place_points(lat, lng, radius, 20)]
        self.send(200, dict(base, results=results, status="OK",
                            next_page_token="FakeNextPageToken"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    Handler.state = State(args.key)
    srv = Server(("127.0.0.1", args.port), Handler)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
