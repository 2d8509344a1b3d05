"""Real parts for the notification tests: a store on SQLite and PostgreSQL, an SMTP server
(aiosmtpd on 127.0.0.1) and a chat webhook receiver (an HTTP server on 127.0.0.1), each
recording what it was sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from publish.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgresql_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url).upgrade()
    try:
        yield opened
    finally:
        opened.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class MailServer:
    """What the SMTP server accepted."""

    port: int
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(_class=EmailMessage, policy=default_policy)
        found: list[EmailMessage] = []
        for envelope in self.envelopes:
            content = envelope.content
            data = content if isinstance(content, bytes) else str(content).encode()
            found.append(parser.parsebytes(data))
        return found

    def to(self, address: str) -> list[EmailMessage]:
        return [
            m for m, e in zip(self.messages(), self.envelopes, strict=True) if address in e.rcpt_tos
        ]


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class Hook:
    """A chat webhook receiver: the JSON bodies it was posted, and the status it answers."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answer: int = 200

    def texts(self) -> list[str]:
        return [str(body["text"]) for body in self.bodies]


@pytest.fixture
def webhook() -> Iterator[Hook]:
    port = free_port()
    hook = Hook(url=f"http://127.0.0.1:{port}/hooks/abc123secret")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with lock:
                if hook.answer == 200:
                    hook.bodies.append(body)
                    hook.headers.append(dict(self.headers))
                status = hook.answer
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
