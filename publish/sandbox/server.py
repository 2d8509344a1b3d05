"""What both sandbox servers share: HTTP parsing, scripted failures, the request journal
and the ``/_sandbox/`` control endpoints.

A sandbox server answers on 127.0.0.1 like the real API would, keeps what it was sent
in memory, and lets a test or a demo script its next answers: an error, a rate limit,
or a delay *after* the request was carried out, so that a client can be killed while the
network has already accepted its post. Each network's server (``twitter.py``,
``facebook.py``) supplies the API itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox/"
# Parameters never written to the journal: they are credentials, even in a sandbox.
_HIDDEN_PARAMS = {"access_token", "appsecret_proof", "input_token"}


class BadRequest(Exception):
    """A request the sandbox cannot even parse; answered by the network's error shape."""


@dataclass
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Request:
    """One parsed HTTP request: query and form fields merged the way Graph merges them."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise BadRequest("the body is not valid JSON") from None

    def params(self) -> dict[str, str]:
        return {**self.query, **self.form}

    def summary(self) -> Any:
        """The request body as the journal keeps it: JSON as is, files as name and size."""
        if self.content_type == "application/json":
            try:
                return json.loads(self.body or b"null")
            except ValueError:
                return None
        summary: dict[str, Any] = {
            key: value for key, value in self.form.items() if key not in _HIDDEN_PARAMS
        }
        for name, upload in self.files.items():
            summary[name] = {"filename": upload.filename, "size": len(upload.content)}
        return summary or None


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Failure:
    """A scripted answer for the next ``times`` requests matching method and path prefix."""

    path: str
    method: str | None = None
    times: int = 1
    error: str | None = None
    status: int | None = None
    code: int | None = None
    message: str | None = None
    reset_in: float | None = None
    reset_at: int | None = None
    delay_after_accept: float = 0.0
    drop_after_accept: bool = False
    # Carry the request out, then answer with this 5xx status anyway ("created but 503").
    error_after_accept: int | None = None
    # Hold the request this long before handling it, so it lands after its sender gave
    # up or died (a request still on the wire when the worker was killed).
    hold_before: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)


class SandboxServer(ThreadingHTTPServer):
    """Base of the per-network servers; subclasses implement :meth:`api` and their state.

    All state is guarded by ``lock``; ``on_change`` (set by :class:`~publish.sandbox.Sandbox`)
    is called after every request that may have changed it, outside the lock.
    """

    daemon_threads = True
    block_on_close = False
    network = "network"
    error_kinds: tuple[str, ...] = ()

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.failures: list[Failure] = []
        self.journal: list[dict[str, Any]] = []
        self.on_change: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self.connections: set[socket.socket] = set()
        # Requests taken but not yet carried out (held, or being handled): a test waits
        # for 0 before it lets time jump, so that nothing lands after the jump.
        self.in_flight = 0
        self.controls: dict[str, Callable[[dict[str, Any]], Any]] = {
            "reset": lambda payload: self.reset(),
            "fail": self._control_fail,
        }

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (killed, timed out) is what networks see
        every day: logged quietly, not printed as a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("sandbox %s: client %s went away", self.network, client_address)
            return
        super().handle_error(request, client_address)

    # --- for subclasses ------------------------------------------------------------------

    def api(self, request: Request, failure: Failure | None) -> Reply:
        raise NotImplementedError

    def server_error(self, status: int) -> Reply:
        """The network's answer for a 5xx it gives although it carried the request out."""
        return Reply(status, {"error": "internal error"})

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def restore(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget everything posted, scripted and journaled; subclasses reset their state."""
        self.failures.clear()
        self.journal.clear()

    # --- serving -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop
            name=f"sandbox-{self.network}",
            daemon=True,
        )
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:  # shutdown() waits forever for a loop never started
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self.lock:
            open_connections = list(self.connections)
        for connection in open_connections:  # keep-alive clients must see the server go
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def state(self) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.snapshot()))

    def requests(self) -> list[dict[str, Any]]:
        """The journal: every API request with its answer, credentials left out."""
        with self.lock:
            return json.loads(json.dumps(self.journal))

    def fail(self, **spec: Any) -> None:
        """Script failures from Python (tests); same fields as ``POST /_sandbox/fail``."""
        self.control("fail", **spec)

    def control(self, action: str, **payload: Any) -> Any:
        """Run control ``action`` from Python, as ``POST /_sandbox/<action>`` would."""
        with self.lock:
            result = self.controls[action](payload)
        self._changed()
        return result

    def take_failure(self, request: Request) -> Failure | None:
        """The scripted failure for this request, if any (taken: it counts once)."""
        with self.lock:
            return self._take_failure(request.method, request.path)

    def handle_request_object(
        self, request: Request, failure: Failure | None = None, *, taken: bool = False
    ) -> tuple[Reply, Failure | None]:
        with self.lock:
            if not taken:
                failure = self._take_failure(request.method, request.path)
            if failure is not None and failure.error_after_accept:
                self.api(request, None)  # carried out, like a request that did go through
                reply = self.server_error(failure.error_after_accept)
            else:
                reply = self.api(request, failure)
            self.journal.append(
                {
                    "at": time.time(),
                    "method": request.method,
                    "path": request.path,
                    "query": {k: v for k, v in request.query.items() if k not in _HIDDEN_PARAMS},
                    "request": request.summary(),
                    "status": reply.status,
                    "content_type": reply.content_type,
                    "response": reply.body,
                }
            )
        self._changed()
        return reply, failure

    def handle_control(self, request: Request) -> Reply:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        if request.method == "GET" and action == "state":
            return Reply(200, self.state())
        if request.method == "GET" and action == "requests":
            return Reply(200, self.requests())
        handler = self.controls.get(action)
        if request.method != "POST" or handler is None:
            known = ", ".join(["GET state", "GET requests"] + [f"POST {a}" for a in self.controls])
            return Reply(404, {"error": f"unknown control {request.method} {action}; {known}"})
        try:
            payload = request.json() or {}
            if not isinstance(payload, dict):
                raise BadRequest("the body must be a JSON object")
            with self.lock:
                result = handler(payload)
        except (BadRequest, KeyError, TypeError, ValueError) as exc:
            return Reply(400, {"error": f"{action}: {exc}"})
        self._changed()
        return Reply(200, result if result is not None else {"ok": True})

    def _control_fail(self, payload: dict[str, Any]) -> dict[str, Any]:
        if "path" not in payload:
            raise BadRequest("'path' (a path prefix such as /2/tweets) is required")
        known = {f for f in Failure.__dataclass_fields__}
        unknown = set(payload) - known
        if unknown:
            raise BadRequest(f"unknown fields {sorted(unknown)}; known: {sorted(known)}")
        failure = Failure(**payload)
        if failure.method:
            failure.method = failure.method.upper()
        if failure.error is not None and failure.error not in self.error_kinds:
            raise BadRequest(f"unknown error {failure.error!r}; known: {list(self.error_kinds)}")
        if failure.times < 1:
            raise BadRequest("'times' must be at least 1")
        with self.lock:
            self.failures.append(failure)
        return {"scripted": asdict(failure)}

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self.failures:
            if failure.matches(method, path):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line, query string (tokens) included, to stderr.
        logger.debug("%s %s %s", self.server.network, self.command, urlsplit(self.path).path)

    def _handle(self) -> None:
        try:
            request = self._parse()
        except BadRequest as exc:
            self._send(Reply(400, {"error": str(exc)}))
            return
        if request.path.startswith(CONTROL_PREFIX):
            self._send(self.server.handle_control(request))
            return
        with self.server.lock:
            self.server.in_flight += 1
        try:
            failure = self.server.take_failure(request)
            if failure is not None and failure.hold_before > 0:
                self.server.stopping.wait(failure.hold_before)
            reply, failure = self.server.handle_request_object(request, failure, taken=True)
        except Exception:  # a sandbox bug must not look like a dropped connection
            logger.exception("sandbox %s failed on %s %s", self.server.network,
                             request.method, request.path)
            self._send(Reply(500, {"error": "sandbox internal error; see its log"}))
            return
        finally:
            with self.server.lock:
                self.server.in_flight -= 1
        if failure is not None and failure.delay_after_accept > 0:
            self.server.stopping.wait(failure.delay_after_accept)
        if failure is not None and failure.drop_after_accept:
            self.close_connection = True
            return
        self._send(reply)

    def _parse(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        if request.content_type == "application/x-www-form-urlencoded":
            request.form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif request.content_type == "multipart/form-data":
            request.form, request.files = parse_multipart(body, request.headers["content-type"])
        return request

    def _send(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status, HTTPStatus(reply.status).phrase)
        except ValueError:
            self.send_response(reply.status)
        self.send_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    """Fields and files of a multipart/form-data body (binary-safe, unlike ``email``)."""
    boundary = ""
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise BadRequest("multipart body without boundary")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip():
                headers[key.strip().lower()] = value.strip()
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if not name:
            raise BadRequest("multipart part without a name")
        if "filename" in disposition:
            files[name] = Upload(
                disposition["filename"],
                headers.get("content-type", "application/octet-stream"),
                content,
            )
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


def _disposition(value: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for parameter in value.split(";")[1:]:
        key, _, raw = parameter.strip().partition("=")
        result[key.lower()] = raw.strip().strip('"')
    return result
