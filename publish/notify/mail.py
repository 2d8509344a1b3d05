"""E-mail for the approval portal: magic links to client approvers, decision notices to editors.

The portal's mails carry magic-link tokens, so a mail is a credential in transit. That decides
the shape of this module:

* Over SMTP, the password and the link never travel in the clear to a real server: the default
  is STARTTLS, and a server that does not offer it is refused, not silently used in plain text.
  ``security="none"`` exists only for a debugging server on the loopback interface, and the
  class refuses it for any other host even if the settings layer were bypassed.
* Nothing here logs a message body, and no ``MailError`` quotes one; logs name the recipient,
  the subject and the Message-ID, which is what an editor needs to trace a mail.
* Without a mail server (``MAIL["host"]`` is ``None``) mails go to an outbox folder of ``.eml``
  files, readable by the owner only. That is the development and test path: the desk's tests
  read the magic link back with :meth:`OutboxMailer.messages`.

Credentials come from the process environment (``DP_SMTP_USER``, ``DP_SMTP_PASSWORD``), never
from the settings file that is committed with the site; :func:`make_mailer` is the only place
that reads them, from the mapping it is given.
"""

from __future__ import annotations

import abc
import email.policy
import logging
import os
import secrets
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from publish.settings import MailSettings

__all__ = [
    "ENV_SMTP_PASSWORD",
    "ENV_SMTP_USER",
    "MailError",
    "Mailer",
    "Message",
    "OutboxMailer",
    "SmtpMailer",
    "make_mailer",
    "new_message_id",
]

logger = logging.getLogger(__name__)

ENV_SMTP_USER = "DP_SMTP_USER"
ENV_SMTP_PASSWORD = "DP_SMTP_PASSWORD"  # noqa: S105 - a variable name, not a password

SECURITIES = ("starttls", "ssl", "none")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class MailError(Exception):
    """A mail could not be sent; the message says what failed (host, port, reason).

    It never contains the SMTP password or the message body.
    """


@dataclass(frozen=True)
class Message:
    """One plain-text mail to one recipient.

    ``text`` is left out of the repr: it holds magic-link tokens, and a repr ends up in logs
    and tracebacks sooner or later.
    """

    to: str
    subject: str
    text: str = field(repr=False)
    reply_to: str | None = None
    # a Message-ID chosen by the caller, so that a mail sent again after a crash carries the
    # same one and the recipient's client can tell it is the same mail (publish.notify)
    message_id: str | None = None


def _domain(address: str) -> str | None:
    """The domain part of an address (``"Desk <desk@example.de>"`` → ``"example.de"``)."""
    _, addr = parseaddr(address)
    _, at, domain = addr.rpartition("@")
    return domain if at and domain else None


def _build(message: Message, sender: str) -> EmailMessage:
    """The mail for ``message`` from ``sender``: headers, Message-ID and a UTF-8 text body.

    Header values with line breaks raise ``ValueError`` (the e-mail policy refuses them), so a
    recipient or subject taken from a form cannot inject headers.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message.message_id or make_msgid(domain=_domain(sender))
    if message.reply_to is not None:
        msg["Reply-To"] = message.reply_to
    # quoted-printable keeps the body 7-bit clean for any relay, with or without 8BITMIME
    msg.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg


def new_message_id(sender: str) -> str:
    """A fresh Message-ID in the sender's domain, to be recorded before the mail is sent."""
    return make_msgid(domain=_domain(sender))


class Mailer(abc.ABC):
    """Sends :class:`Message` objects from ``sender``; ``send`` returns the Message-ID."""

    sender: str

    @abc.abstractmethod
    def send(self, message: Message) -> str:
        """Send ``message``; return its Message-ID, or raise :class:`MailError`."""


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _describe(exc: BaseException) -> str:
    """An exception as ``Class: text`` for a MailError, SMTP replies decoded."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}".rstrip()
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SmtpMailer(Mailer):
    """Mail through an SMTP server: STARTTLS (default), implicit TLS, or plain on loopback.

    A connection is opened per mail: the portal sends a few mails an hour, and a held-open
    connection would only time out between them.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
    ) -> None:
        if security not in SECURITIES:
            raise ValueError(
                f"unknown mail security {security!r}; expected one of {', '.join(SECURITIES)}"
            )
        if security == "none" and host.lower() not in LOOPBACK_HOSTS:
            raise ValueError(
                f"mail security 'none' sends in the clear and is only allowed for a debugging "
                f"server on loopback (127.0.0.1, localhost, ::1), not {host!r}"
            )
        if (username is None) != (password is None):
            given, missing = (
                (ENV_SMTP_USER, ENV_SMTP_PASSWORD)
                if username is not None
                else (ENV_SMTP_PASSWORD, ENV_SMTP_USER)
            )
            raise ValueError(f"SMTP login needs both credentials: {given} is set, {missing} is not")
        if not ((username or "").isascii() and (password or "").isascii()):
            # smtplib encodes AUTH as ASCII and would fail mid-login with the credentials
            # inside its UnicodeEncodeError; say so up front, naming neither
            raise ValueError(
                f"SMTP credentials ({ENV_SMTP_USER}, {ENV_SMTP_PASSWORD}) must be ASCII: "
                "Python's smtplib cannot send other characters in AUTH"
            )
        if _domain(sender) is None:
            raise ValueError(f"mail sender {sender!r} is not an e-mail address")
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout

    def __repr__(self) -> str:
        return (
            f"SmtpMailer(host={self.host!r}, port={self.port!r}, sender={self.sender!r}, "
            f"security={self.security!r}, username={self.username!r})"
        )

    @property
    def where(self) -> str:
        """``host:port`` as it appears in messages."""
        return _where(self.host, self.port)

    def send(self, message: Message) -> str:
        msg = _build(message, self.sender)
        message_id = str(msg["Message-ID"])
        logger.debug(
            "connecting to %s (%s) for %s to %s", self.where, self.security, message_id, message.to
        )
        smtp = self._connect()
        try:
            self._secure(smtp)
            self._login(smtp)
            self._deliver(smtp, msg, message.to)
        finally:
            self._close(smtp)
        logger.info(
            "sent mail %s to %s via %s: %s", message_id, message.to, self.where, message.subject
        )
        return message_id

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "ssl":
                return smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"cannot connect to the mail server {self.where}: {_describe(exc)}"
            ) from exc

    def _secure(self, smtp: smtplib.SMTP) -> None:
        if self.security != "starttls":
            return
        try:
            smtp.ehlo()
            offered = smtp.has_extn("starttls")
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"mail server {self.where} failed at EHLO: {_describe(exc)}") from exc
        if not offered:
            raise MailError(
                f"mail server {self.where} does not offer STARTTLS; "
                "refusing to send the password/link in the clear"
            )
        try:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"STARTTLS with the mail server {self.where} failed: {_describe(exc)}"
            ) from exc

    def _login(self, smtp: smtplib.SMTP) -> None:
        if self.username is None or self._password is None:
            return
        try:
            smtp.login(self.username, self._password)
        except smtplib.SMTPNotSupportedError:
            raise MailError(
                f"mail server {self.where} does not offer AUTH; cannot log in as {self.username!r}"
            ) from None
        except UnicodeError:
            raise MailError(
                f"cannot log in to the mail server {self.where} as {self.username!r}: "
                "the credentials must be ASCII"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            # from None: the chained exception and its reply are not ours to vouch for
            reason = _describe(exc)
            if self._password:
                reason = reason.replace(self._password, "***")
            raise MailError(
                f"mail server {self.where} refused the login as {self.username!r}: {reason}"
            ) from None

    def _deliver(self, smtp: smtplib.SMTP, msg: EmailMessage, to: str) -> None:
        from_addr = parseaddr(self.sender)[1]
        to_addr = parseaddr(to)[1] or to
        try:
            refused = smtp.send_message(msg, from_addr=from_addr, to_addrs=[to_addr])
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(
                f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
            )
            raise MailError(
                f"mail server {self.where} refused the recipient {to_addr}: {reasons}"
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(
                f"mail server {self.where} refused the sender {from_addr}: {_describe(exc)}"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"sending to {to_addr} via {self.where} failed: {_describe(exc)}"
            ) from exc
        if refused:  # only possible with several recipients; kept for safety
            raise MailError(f"mail server {self.where} refused the recipient {to_addr}")

    @staticmethod
    def _close(smtp: smtplib.SMTP) -> None:
        """QUIT politely; a failure after the mail was accepted is not a send failure."""
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class OutboxMailer(Mailer):
    """Mail into a folder of ``.eml`` files instead of a server (development and tests).

    Files are named ``<UTC timestamp>-<8 hex>.eml``, so name order is sending order (to the
    microsecond); they are written atomically and readable by the owner only, because the
    magic links in them are live credentials.
    """

    def __init__(self, folder: Path, sender: str) -> None:
        if _domain(sender) is None:
            raise ValueError(f"mail sender {sender!r} is not an e-mail address")
        self.folder = Path(folder)
        self.sender = sender

    def __repr__(self) -> str:
        return f"OutboxMailer(folder={str(self.folder)!r}, sender={self.sender!r})"

    def send(self, message: Message) -> str:
        msg = _build(message, self.sender)
        message_id = str(msg["Message-ID"])
        data = msg.as_bytes(policy=email.policy.default)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".outbox-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    os.fchmod(handle.fileno(), 0o600)
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailError(f"cannot write the mail to the outbox {self.folder}: {exc}") from exc
        logger.info(
            "wrote mail %s to %s into %s: %s", message_id, message.to, path, message.subject
        )
        return message_id

    @staticmethod
    def messages(folder: Path) -> list[EmailMessage]:
        """The mails in ``folder``, oldest first; a missing folder has none."""
        folder = Path(folder)
        if not folder.is_dir():
            return []
        parser = BytesParser(_class=EmailMessage, policy=email.policy.default)
        result: list[EmailMessage] = []
        for path in sorted(folder.glob("*.eml")):
            with path.open("rb") as handle:
                parsed = parser.parse(handle)
            result.append(parsed)
        return result


def make_mailer(mail: MailSettings, root: Path, environ: Mapping[str, str]) -> Mailer:
    """The mailer for the checked ``MAIL`` setting of the site at ``root``.

    ``host`` ``None`` means the outbox folder ``root / mail.outbox``; otherwise SMTP with
    the credentials from ``environ`` (``DP_SMTP_USER`` / ``DP_SMTP_PASSWORD``; empty counts
    as unset). Pass ``os.environ`` in production and a plain dict in tests.
    """
    if mail.host is None:
        return OutboxMailer(Path(root) / mail.outbox, mail.sender)
    return SmtpMailer(
        mail.host,
        mail.port,
        mail.sender,
        security=mail.security,
        username=environ.get(ENV_SMTP_USER) or None,
        password=environ.get(ENV_SMTP_PASSWORD) or None,
        timeout=mail.timeout,
    )
