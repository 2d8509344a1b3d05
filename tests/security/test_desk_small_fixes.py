"""Issue 16, point 6: no magic link in the log, no 500 for non-ASCII secrets, and no
account enumeration by timing. Real parts: the desk over a real socket with its masking
request handler, a real SQLite store, real argon2.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from publish.store import Store
from publish.web import accounts
from publish.web.devserver import MaskingRequestHandler
from tests.publish.web.conftest import (
    NOW,
    PASSWORD,
    Desk,
    clone_site,
    email,
    make_desk,
)


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_site(tmp_path_factory.mktemp("desk") / "site")


@pytest.fixture
def desk(site_root: Path, tmp_path: Path) -> Iterator[Desk]:
    made = make_desk(site_root, tmp_path)
    try:
        yield made
    finally:
        made.store.dispose()


def test_an_unused_magic_link_never_reaches_the_log(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A POST to a portal link without a CSRF token is refused, and neither the desk's
    warning nor the server's request line shows the token."""
    token = secrets.token_urlsafe(32)
    server = make_server(
        "127.0.0.1", 0, desk.app, threaded=True, request_handler=MaskingRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO)
    try:
        url = f"http://127.0.0.1:{server.server_port}/portal/7/{token}"
        request = urllib.request.Request(url, data=b"x=1", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 (our own server)
        assert refused.value.code == 400
        # a GET of the link (no such review here) is in the request log: masked too
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}?a=1", timeout=30)  # noqa: S310
        assert missing.value.code == 404
    finally:
        server.shutdown()
        thread.join(timeout=10)
    logged = caplog.text
    assert "CSRF" in logged, logged
    assert "/portal/7/***" in logged
    assert token not in logged


def test_non_ascii_csrf_tokens_and_signatures_are_refused_not_a_500(desk: Desk) -> None:
    browser = desk.client()
    browser.get("/login")
    for value in ("äöü", "tökén€"):
        as_form = browser.post(
            "/login", {"email": "x@example.org", "password": "y", "csrf_token": value},
            csrf=False,
        )
        assert as_form.status_code in (400, 403), as_form.status_code
        as_header = browser.client.post(
            "/login", data={"email": "x@example.org", "password": "y"},
            base_url="https://localhost",
            headers={"X-CSRF-Token": value.encode("utf-8").decode("latin-1")},
        )
        assert as_header.status_code in (400, 403), as_header.status_code
    signed = browser.client.post(
        "/webhooks/facebook", data=b"{}", base_url="https://localhost",
        headers={"X-Hub-Signature-256": "sha256=\u00e4\u00f6"},
    )
    assert signed.status_code == 403


class _CountingHasher:
    """argon2's PasswordHasher, counting the verifications (each one still runs)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls = 0

    def verify(self, hashed: str, password: str) -> bool:
        self.calls += 1
        return bool(self.real.verify(hashed, password))  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_locked_account_costs_the_argon2_time_of_an_unknown_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle = accounts.Throttle(failures=2, lock=timedelta(minutes=15), address_failures=1000)
    with Store(f"sqlite:///{tmp_path / 'desk.db'}").upgrade() as store:
        with store.transaction() as session:
            accounts.add_user(
                session, email("editor"), "editor", PASSWORD, NOW, actor="test",
                must_change=False,
            )
        for _ in range(throttle.failures):
            with store.transaction() as session:
                accounts.login(session, email("editor"), "wrong", "10.0.0.1", NOW, throttle)
        counting = _CountingHasher(accounts._hasher)
        monkeypatch.setattr(accounts, "_hasher", counting)

        def attempt(who: str, password: str) -> tuple[float, int, accounts.LoginResult]:
            before = counting.calls
            started = time.perf_counter()
            with store.transaction() as session:
                result = accounts.login(session, who, password, "10.0.0.2", NOW, throttle)
            return time.perf_counter() - started, counting.calls - before, result

        locked = [attempt(email("editor"), PASSWORD) for _ in range(5)]
        unknown = [attempt(f"nobody{i}@agentur-kranich.example", "x") for i in range(5)]
        for _elapsed, calls, result in locked:
            assert result.user is None and result.locked_until is not None
            assert calls == 1, "a locked account must run argon2 like an unknown one"
        for _elapsed, calls, result in unknown:
            assert result.user is None
            assert calls == 1
        locked_median = statistics.median(e for e, _, _ in locked)
        unknown_median = statistics.median(e for e, _, _ in unknown)
        # tolerant: same order of magnitude, not a few ms against the full argon2 time
        assert locked_median > unknown_median / 3, (locked_median, unknown_median)
