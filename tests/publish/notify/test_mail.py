"""Mail for the approval portal, against a real SMTP server (aiosmtpd) and a real outbox folder.

Every server listens on 127.0.0.1 on a free port and records what it was told: the envelopes
it accepted and the AUTH attempts it saw. TLS tests use a throw-away certificate made with the
``openssl`` command and trusted through ``SSL_CERT_FILE``, which OpenSSL reads whenever a
default context is created (``make test`` installs Debian's ``openssl``).
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import ssl
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from publish.notify.mail import (
    ENV_SMTP_PASSWORD,
    ENV_SMTP_USER,
    MailError,
    Message,
    OutboxMailer,
    SmtpMailer,
    make_mailer,
)
from publish.settings import MailSettings

SENDER = "Dialogpress Desk <desk@stadtwerke-elbtal.de>"
APPROVER = "anna.mueller@kunde.example"
SUBJECT = "„Freigabe für Müller“"
BODY = "Grüß Gott, Frau Müller,\n\nbitte geben Sie den Beitrag frei: äöüß ÄÖÜ €.\n"
TOKEN = "tok-7f3c9e1d2b8a4c6e5f0a1b2c3d4e5f60"
USER = "desk-mailer"
PASSWORD = "s3cr3t-Passwort-42"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Recorder:
    """An aiosmtpd handler and authenticator that keeps what the server accepted."""

    accept_login: tuple[str, str] | None = (USER, PASSWORD)
    refuse_rcpt: set[str] = field(default_factory=set)
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((mechanism, login, password))
        return AuthResult(success=(login, password) == self.accept_login, handled=False)

    def mail(self, index: int = 0) -> EmailMessage:
        content = self.envelopes[index].original_content
        assert isinstance(content, bytes)
        parsed = BytesParser(_class=EmailMessage, policy=default_policy).parsebytes(content)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Server:
    recorder: Recorder
    port: int
    host: str = "127.0.0.1"

    def mailer(self, security: str = "none", **kwargs: Any) -> SmtpMailer:
        return SmtpMailer(self.host, self.port, SENDER, security=security, timeout=10, **kwargs)


Serve = Callable[..., Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start aiosmtpd servers on 127.0.0.1 (kwargs go to aiosmtpd's SMTP); stopped afterwards."""
    controllers: list[Controller] = []

    def start(recorder: Recorder | None = None, auth: bool = False, **kwargs: Any) -> Server:
        recorder = recorder or Recorder()
        if auth:
            kwargs["authenticator"] = recorder.authenticate
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return Server(recorder, port)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl command makes the certificate: apt install openssl"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


def approval(text: str = BODY, **kwargs: Any) -> Message:
    return Message(to=APPROVER, subject=SUBJECT, text=text, **kwargs)


def assert_is_our_mail(mail: EmailMessage, message_id: str, text: str = BODY) -> None:
    """``mail`` is the approval mail ``message_id`` (line ends as the wire or the file has them)."""
    assert mail["Message-ID"] == message_id
    assert message_id.endswith("@stadtwerke-elbtal.de>")
    assert mail["From"] == SENDER
    assert mail["To"] == APPROVER
    assert mail["Subject"] == SUBJECT
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == text
    sent = parsedate_to_datetime(mail["Date"])
    assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)


# --- SMTP --------------------------------------------------------------------------------


def test_plain_loopback_server_receives_the_mail_with_umlauts(serve: Serve) -> None:
    server = serve()
    message_id = server.mailer().send(approval(reply_to="Redaktion <redaktion@example.de>"))

    [envelope] = server.recorder.envelopes
    assert envelope.mail_from == "desk@stadtwerke-elbtal.de"
    assert envelope.rcpt_tos == [APPROVER]
    mail = server.recorder.mail()
    assert_is_our_mail(mail, message_id)
    assert mail["Reply-To"] == "Redaktion <redaktion@example.de>"
    # on the wire the headers are 7-bit: the umlauts travel RFC 2047-encoded
    assert isinstance(envelope.original_content, bytes)
    head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head


def test_without_reply_to_there_is_no_reply_to_header(serve: Serve) -> None:
    server = serve()
    server.mailer().send(approval())
    assert "Reply-To" not in server.recorder.mail()


def test_starttls_is_required_and_nothing_is_sent_without_it(serve: Serve) -> None:
    # the server offers AUTH in the clear, but not STARTTLS: the mailer must not use it
    server = serve(auth=True, auth_require_tls=False)
    mailer = server.mailer("starttls", username=USER, password=PASSWORD)

    with pytest.raises(MailError, match="does not offer STARTTLS") as caught:
        mailer.send(approval(text=f"Link: https://desk.example/a/{TOKEN}"))

    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert "in the clear" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert server.recorder.logins == []
    assert server.recorder.envelopes == []


def test_login_sends_username_and_password_via_auth(serve: Serve) -> None:
    server = serve(auth=True, auth_require_tls=False)
    message_id = server.mailer(username=USER, password=PASSWORD).send(approval())

    assert [(login, password) for _, login, password in server.recorder.logins] == [
        (USER, PASSWORD)
    ]
    assert server.recorder.logins[0][0] in {"PLAIN", "LOGIN"}
    assert_is_our_mail(server.recorder.mail(), message_id)


def test_no_credentials_means_no_login(serve: Serve) -> None:
    server = serve(auth=True, auth_require_tls=False)
    server.mailer().send(approval())
    assert server.recorder.logins == []
    assert len(server.recorder.envelopes) == 1


def test_refused_login_names_server_and_user_but_never_the_password(serve: Serve) -> None:
    server = serve(Recorder(accept_login=(USER, "the-real-one")), auth=True, auth_require_tls=False)
    mailer = server.mailer(username=USER, password=PASSWORD)

    with pytest.raises(MailError) as caught:
        mailer.send(approval())

    error = caught.value
    assert server.recorder.logins, "the server never saw a login attempt"
    assert f"127.0.0.1:{server.port}" in str(error)
    assert USER in str(error)
    assert "535" in str(error)
    assert PASSWORD not in str(error)
    assert PASSWORD not in repr(error)
    assert PASSWORD not in repr(mailer)
    # nothing chained that could carry the credentials along into a traceback
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert server.recorder.envelopes == []


def test_auth_not_offered_is_an_error_not_a_silent_anonymous_send(serve: Serve) -> None:
    server = serve()  # no authenticator: aiosmtpd offers no AUTH in the clear
    with pytest.raises(MailError, match="does not offer AUTH"):
        server.mailer(username=USER, password=PASSWORD).send(approval())
    assert server.recorder.envelopes == []


def test_closed_port_is_a_mail_error_naming_host_and_port() -> None:
    port = free_port()
    mailer = SmtpMailer("127.0.0.1", port, SENDER, security="none", timeout=5)
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port}") as caught:
        mailer.send(approval())
    assert "ConnectionRefusedError" in str(caught.value)


def test_refused_recipient_is_named(serve: Serve) -> None:
    server = serve(Recorder(refuse_rcpt={APPROVER}))
    with pytest.raises(MailError, match=re.escape(APPROVER)) as caught:
        server.mailer().send(approval(text=f"Link: {TOKEN}"))
    assert "550" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert server.recorder.envelopes == []


def test_starttls_with_a_trusted_certificate_delivers_and_logs_in_over_tls(
    serve: Serve, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    # auth_require_tls (aiosmtpd's default): AUTH is only offered once TLS is up
    server = serve(auth=True, tls_context=certificate.server_context(), require_starttls=True)
    mailer = server.mailer("starttls", username=USER, password=PASSWORD)

    message_id = mailer.send(approval())

    assert [login for _, login, _ in server.recorder.logins] == [USER]
    assert_is_our_mail(server.recorder.mail(), message_id)


def test_starttls_with_an_untrusted_certificate_is_refused(
    serve: Serve, certificate: Certificate
) -> None:
    server = serve(auth=True, tls_context=certificate.server_context(), require_starttls=True)
    mailer = server.mailer("starttls", username=USER, password=PASSWORD)

    with pytest.raises(MailError, match="STARTTLS") as caught:
        mailer.send(approval())

    assert "SSLCertVerificationError" in str(caught.value)
    assert server.recorder.logins == []
    assert server.recorder.envelopes == []


def test_implicit_tls_delivers(
    serve: Serve, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; this session is TLS throughout
    server = serve(auth=True, auth_require_tls=False, ssl_context=certificate.server_context())
    message_id = server.mailer("ssl", username=USER, password=PASSWORD).send(approval())
    assert [login for _, login, _ in server.recorder.logins] == [USER]
    assert_is_our_mail(server.recorder.mail(), message_id)


def test_implicit_tls_with_an_untrusted_certificate_is_refused(
    serve: Serve, certificate: Certificate
) -> None:
    server = serve(auth=True, ssl_context=certificate.server_context())
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{server.port}.*SSLCertVerificationError"):
        server.mailer("ssl", username=USER, password=PASSWORD).send(approval())
    assert server.recorder.logins == []
    assert server.recorder.envelopes == []


@pytest.mark.parametrize("host", ["smtp.example.de", "10.0.0.5", "127.0.0.1.example.de"])
def test_security_none_is_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SmtpMailer(host, 25, SENDER, security="none")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_security_none_is_allowed_on_loopback(host: str) -> None:
    assert SmtpMailer(host, 25, SENDER, security="none").security == "none"


def test_unknown_security_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="tls"):
        SmtpMailer("smtp.example.de", 587, SENDER, security="tls")


def test_half_a_login_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=ENV_SMTP_PASSWORD):
        SmtpMailer("smtp.example.de", 587, SENDER, username=USER)
    with pytest.raises(ValueError, match=ENV_SMTP_USER):
        SmtpMailer("smtp.example.de", 587, SENDER, password=PASSWORD)


def test_non_ascii_credentials_are_refused_up_front_without_naming_them() -> None:
    secret = "Pässwort-geheim"
    with pytest.raises(ValueError, match="ASCII") as caught:
        SmtpMailer("smtp.example.de", 587, SENDER, username=USER, password=secret)
    assert secret not in str(caught.value)


def test_header_injection_is_refused_before_anything_is_sent(serve: Serve) -> None:
    server = serve()
    with pytest.raises(ValueError):
        server.mailer().send(
            Message(to=f"{APPROVER}\r\nBcc: spy@evil.example", subject="x", text="")
        )
    with pytest.raises(ValueError):
        server.mailer().send(Message(to=APPROVER, subject="x\nBcc: spy@evil.example", text=""))
    assert server.recorder.envelopes == []


# --- outbox --------------------------------------------------------------------------------


def test_outbox_writes_private_eml_files_atomically(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "outbox"
    message_id = OutboxMailer(folder, SENDER).send(approval(reply_to="redaktion@example.de"))

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    [path] = folder.iterdir()  # no temp file left behind
    assert re.fullmatch(r"\d{8}T\d{12}-[0-9a-f]{8}\.eml", path.name), path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [mail] = OutboxMailer.messages(folder)
    assert_is_our_mail(mail, message_id)
    assert mail["Reply-To"] == "redaktion@example.de"


def test_outbox_messages_come_back_in_sending_order(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox", SENDER)
    ids = [
        mailer.send(Message(to=f"person{n}@kunde.example", subject=f"Nr. {n} für Ö", text=f"{n} ä"))
        for n in range(5)
    ]
    mails = OutboxMailer.messages(tmp_path / "outbox")
    assert [m["Message-ID"] for m in mails] == ids
    assert len(set(ids)) == 5
    assert [m["Subject"] for m in mails] == [f"Nr. {n} für Ö" for n in range(5)]
    assert [m.get_content() for m in mails] == [f"{n} ä\n" for n in range(5)]


def test_outbox_body_keeps_the_magic_link_intact(tmp_path: Path) -> None:
    link = f"https://desk.stadtwerke-elbtal.de/freigabe?token={TOKEN}&next=%2Fbeitrag%2F42"
    OutboxMailer(tmp_path, SENDER).send(approval(text=f"{BODY}\n{link}\n"))
    [mail] = OutboxMailer.messages(tmp_path)
    assert link in mail.get_content().splitlines()


def test_outbox_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert OutboxMailer.messages(tmp_path / "never-written") == []


def test_outbox_that_cannot_be_written_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(MailError, match="outbox"):
        OutboxMailer(blocker, SENDER).send(approval())


# --- make_mailer -----------------------------------------------------------------------------


def mail_setting(**overrides: Any) -> MailSettings:
    return MailSettings(**{"sender": SENDER, "outbox": "var/outbox", **overrides})


def test_make_mailer_without_host_writes_to_the_outbox_under_root(tmp_path: Path) -> None:
    mailer = make_mailer(mail_setting(), tmp_path, {ENV_SMTP_USER: USER})
    assert isinstance(mailer, OutboxMailer)
    assert mailer.sender == SENDER
    message_id = mailer.send(approval())
    assert [m["Message-ID"] for m in OutboxMailer.messages(tmp_path / "var" / "outbox")] == [
        message_id
    ]


def test_make_mailer_with_host_uses_smtp_and_only_the_given_environ(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SMTP_USER, "from-os-environ")
    monkeypatch.setenv(ENV_SMTP_PASSWORD, "from-os-environ")
    server = serve(auth=True, auth_require_tls=False)
    setting = mail_setting(host="127.0.0.1", port=server.port, security="none", timeout=7)

    mailer = make_mailer(setting, tmp_path, {ENV_SMTP_USER: USER, ENV_SMTP_PASSWORD: PASSWORD})
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.security, mailer.timeout) == (
        "127.0.0.1",
        server.port,
        "none",
        7.0,
    )
    mailer.send(approval())
    assert [(login, pw) for _, login, pw in server.recorder.logins] == [(USER, PASSWORD)]

    # an empty environ means no login, whatever the process environment holds
    make_mailer(setting, tmp_path, {}).send(approval())
    assert len(server.recorder.logins) == 1
    assert len(server.recorder.envelopes) == 2
    assert not (tmp_path / "var").exists()


# --- what must never leak ------------------------------------------------------------------


def test_bodies_are_never_logged(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="publish.notify.mail")
    server = serve(auth=True, auth_require_tls=False)
    message = approval(text=f"Ihr Link: https://desk.example/freigabe/{TOKEN}\n")

    smtp_id = server.mailer(username=USER, password=PASSWORD).send(message)
    outbox_id = OutboxMailer(tmp_path, SENDER).send(message)

    # the mails did carry the token, and the log did speak about them ...
    assert TOKEN in server.recorder.mail().get_content()
    assert TOKEN in OutboxMailer.messages(tmp_path)[0].get_content()
    mine = [r for r in caplog.records if r.name == "publish.notify.mail"]
    assert mine
    assert smtp_id in caplog.text and outbox_id in caplog.text
    assert APPROVER in caplog.text
    # ... but never with the body, nor the password
    assert TOKEN not in caplog.text
    assert PASSWORD not in caplog.text


def test_message_repr_hides_the_body() -> None:
    message = approval(text=f"Link {TOKEN}")
    assert TOKEN not in repr(message)
    assert APPROVER in repr(message)
