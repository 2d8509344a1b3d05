"""The approval portal's world in a tmp folder: the site's remote, an editor, the desk.

``remote.git`` is a bare copy of the example site's repository, standing for the
agency's git server. The editor works in a clone of it, on a branch with a new post and
a snippet linking to it, and pushes. The desk runs on a checkout of its own (main) and
works in the portal's own clone (``PORTAL["workspace"]``), pushing approvals to the
remote. Jonas Weber is an approver on main whom ``PORTAL_SIGNER`` does not list.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitsite import approve_example_trust

from publish.notify.mail import OutboxMailer
from publish.review.portal import Portal
from publish.web.state import desk as desk_of
from tests.publish.web.conftest import ENVIRON, ROOT, Desk, DeskClient
from tests.worktree import clone_working_tree

BRANCH = "winterservice"
LENA = ("Lena Berger", "lena.berger@agentur-kranich.example")
LEAD = ("Kai Kranich", "kai@agentur-kranich.example")
PETRA = "petra.schulz@stadtwerke-elbtal.example"
JONAS = "jonas.weber@stadtwerke-elbtal.example"
POST = "posts/winterservice.md"
SNIPPET = "social/2026-12-15-winterservice.md"
SNIPPET_X = (
    "Frost angesagt? Schützen Sie Ihre Wasserleitungen: unsere fünf Tipps für den Winter."
)
SNIPPET_FACEBOOK = (
    "Frost angesagt? Mit fünf einfachen Tipps schützen Sie Ihre Wasserleitungen vor dem "
    "Einfrieren – und wissen, wen Sie anrufen, wenn es doch passiert."
)

POST_TEXT = """\
---
title: "Winterservice: So kommen Sie gut durch den Frost"
date: 2026-12-14 09:00
slug: winterservice
lang: de
category: Service
tags: [Winter, Wasser]
authors: [lena.berger@agentur-kranich.example]
summary: Fünf Tipps gegen eingefrorene Leitungen und wen Sie anrufen, wenn es doch passiert.
image: images/service-team.png
image_alt: Unser Service-Team im Kundenzentrum
---
Wenn die Temperaturen unter null fallen, frieren ungeschützte Leitungen schnell ein.

Drehen Sie Außenhähne ab, lassen Sie Räume mit Wasserleitungen nie ganz auskühlen, und
melden Sie einen Rohrbruch sofort unserem Störungsdienst – rund um die Uhr.
"""

SNIPPET_TEXT = f"""\
---
title: Winterservice
channels: [twitter, facebook]
publish_at: 2026-12-15 09:00
post: winterservice
authors: [lena.berger@agentur-kranich.example]
text:
  twitter: "{SNIPPET_X}"
thread:
  - "2/2 Rohrbruch? Unser Störungsdienst ist rund um die Uhr für Sie da."
---
{SNIPPET_FACEBOOK}
"""


def git(repo: Path, *args: str, who: tuple[str, str] = LENA) -> str:
    result = subprocess.run(
        ["git", "-c", f"user.name={who[0]}", "-c", f"user.email={who[1]}",
         "-c", "commit.gpgsign=false", *args],
        cwd=repo, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@dataclass
class PortalSite:
    remote: Path
    editor: Path
    desk_root: Path
    key: Path
    environ: dict[str, str]

    def tip(self, branch: str = BRANCH) -> str:
        return git(self.remote, "rev-parse", f"refs/heads/{branch}")

    def edit_and_push(self, name: str, old: str, new: str) -> str:
        """The editor changes a piece on the branch and pushes it."""
        git(self.editor, "pull", "-q", "--ff-only")
        path = self.editor / "content" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (old, name)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        git(self.editor, "commit", "-q", "-am", f"Edit {name}")
        git(self.editor, "push", "-q")
        return self.tip()

    def pull(self) -> None:
        git(self.editor, "pull", "-q", "--ff-only")

    def read(self, name: str) -> str:
        return (self.editor / "content" / name).read_text(encoding="utf-8")


def make_portal_site(tmp: Path) -> PortalSite:
    remote = tmp / "remote.git"
    clone_working_tree(remote, bare=True)
    seed = tmp / "seed"
    subprocess.run(["git", "clone", "-q", str(remote), str(seed)], check=True)
    jonas_key = tmp / "keys" / "jonas"
    jonas_key.parent.mkdir()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", JONAS, "-f", str(jonas_key)],
        check=True,
    )
    public = jonas_key.with_suffix(".pub").read_text().strip()
    trust = seed / "trust.yml"
    trust.write_text(
        trust.read_text(encoding="utf-8").replace(
            "required_approvals:",
            f"  - name: Jonas Weber\n    email: {JONAS}\n    key: {public}\nrequired_approvals:",
            1,
        ),
        encoding="utf-8",
    )
    approve_example_trust(seed)  # Petra, an approver of the version in force, agrees
    git(seed, "commit", "-q", "-am", "Jonas Weber approves too (with his own key)", who=LEAD)
    git(seed, "push", "-q", "origin", "HEAD:main", who=LEAD)

    editor = tmp / "editor"
    subprocess.run(["git", "clone", "-q", str(remote), str(editor)], check=True)
    git(editor, "checkout", "-q", "-b", BRANCH)
    (editor / "content" / POST).write_text(POST_TEXT, encoding="utf-8")
    (editor / "content" / SNIPPET).write_text(SNIPPET_TEXT, encoding="utf-8")
    git(editor, "add", "-A")
    git(editor, "commit", "-q", "-m", "Winterservice: post and snippet")
    git(editor, "push", "-q", "-u", "origin", BRANCH)

    desk_root = tmp / "desk-site"
    subprocess.run(["git", "clone", "-q", str(remote), str(desk_root)], check=True)
    key = tmp / "keys" / "portal"
    shutil.copyfile(ROOT / "tests" / "fixtures" / "keys" / "portal_ed25519", key)
    key.chmod(0o600)
    shutil.copyfile(
        ROOT / "tests" / "fixtures" / "keys" / "portal_ed25519.pub", key.with_suffix(".pub")
    )
    environ = {**ENVIRON, "DP_PORTAL_KEY": str(key)}
    return PortalSite(remote, editor, desk_root, key, environ)


# --- the portal, driven as the tests drive it ---------------------------------------------

LINK = re.compile(r"https?://[^/\s]+(/portal/(\d+)/[A-Za-z0-9_-]+)")
FORM_PIECE = re.compile(
    r'name="piece" value="([^"]+)"><input type="hidden" name="hash" value="([^"]+)"'
)


def portal(desk: Desk) -> Portal:
    with desk.app.app_context():
        found: Portal = desk_of().portal()
    return found


def outbox(site: PortalSite) -> list[tuple[str, str, str]]:
    """(to, subject, text) of every mail the desk wrote, oldest first."""
    return [
        (str(m["To"]), str(m["Subject"]), m.get_content())  # type: ignore[attr-defined]
        for m in OutboxMailer.messages(site.desk_root / ".dialogpress" / "outbox")
    ]


def request_review(desk: Desk, approvers: list[str] | None = None) -> tuple[int, str]:
    """An editor asks for a review; returns the review id and the path of the last link."""
    outcome = portal(desk).request_review(
        desk.store, branch=BRANCH, base="main", approvers=approvers or [PETRA],
        requested_by=LENA[1], note="Bitte bis Freitag freigeben", now=desk.clock.now,
    )
    site_root = desk.root
    mails = OutboxMailer.messages(site_root / ".dialogpress" / "outbox")
    found = LINK.search(mails[-1].get_content())  # type: ignore[attr-defined]
    assert found is not None
    assert int(found.group(2)) == outcome.review_id
    return outcome.review_id, found.group(1)


def open_review(desk: Desk, link: str) -> DeskClient:
    browser = desk.client(language=None)
    welcome = browser.get(link)
    assert welcome.status_code == 200, welcome.get_data(as_text=True)
    assert "Guten Tag Petra Schulz" in welcome.get_data(as_text=True)
    opened = browser.post(link)
    assert opened.status_code == 302
    return browser


def shown(page: str) -> dict[str, str]:
    return dict(FORM_PIECE.findall(page))
