"""The common part of the helpdesk API fakes on 127.0.0.1 (tests/fake_zammad.py, tests/fake_freshdesk.py): a real
threaded HTTP server, every request recorded (method, path, query, headers, JSON body), scripted failures for the
next N requests (429 with Retry-After, 5xx ...), and authentication checked before routing, as the real API does.
Each fake says how it authenticates (`authorized`) and answers (`route`)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeApi:
    """State lives in subclasses; this holds the server, the request log and the script."""

    def __init__(self):
        self.requests: list[dict] = []
        self._script: list[tuple[int, dict, bytes]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # -- to override -------------------------------------------------------------------------
    def authorized(self, headers) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> tuple[int, object]:
        return 401, {"error": "authentication failed"}

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        raise NotImplementedError

    # -- scripting and inspection ------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, retry_after: str | int | None = None, body: str = "") -> None:
        """The next `count` requests (any endpoint) are answered with `status` (and Retry-After when given)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        with self._lock:
            self._script.extend([(status, headers, body.encode())] * count)

    def calls(self, method: str | None = None, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method) and (path is None or r["path"] == path)]

    def writes(self) -> list[tuple[str, str, object]]:
        """(method, path, JSON body) of every request that is not a GET, in order."""
        return [(r["method"], r["path"], r["json"]) for r in self.calls() if r["method"] != "GET"]

    # -- serving -----------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                query = parse_qs(parts.query)
                with fake._lock:
                    fake.requests.append({"method": self.command, "path": parts.path, "query": query,
                                          "headers": dict(self.headers.items()), "json": body})
                    scripted = fake._script.pop(0) if fake._script else None
                if scripted:
                    status, headers, payload = scripted
                    return self._send(status, payload, "text/plain", headers)
                if not fake.authorized(self.headers):
                    status, answer = fake.unauthorized()
                else:
                    with fake._lock:
                        status, answer = fake.route(self.command, parts.path, query, body)
                self._send(status, b"" if answer is None else json.dumps(answer).encode(),
                           "application/json; charset=utf-8", {})

            def _send(self, status, payload, ctype, headers):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

        return Handler
