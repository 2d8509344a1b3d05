"""Issue 16, point 5: the desk never runs a branch's code with its secrets.

A real world: a bare repository as the agency's git server, an editor's clone pushing a
review branch, the desk on its own clone with the portal's key in ``DP_PORTAL_KEY`` and
its secret key in the environment, real Pelican builds in the child. Each attack of a
pusher — settings that read the desk's environment and key file, a theme that shows the
approver a decoy, a link in the content that points at a secret file — is refused or has
no effect, and the secrets appear nowhere the portal serves.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from publish.review.portal import PortalError
from publish.review.previews import PreviewRefused, build_preview, child_environment
from tests.publish.web.conftest import ROOT, SECRET_KEY, Desk, DeskClient, make_desk
from tests.publish.web.portal_site import (
    BRANCH,
    LEAD,
    PETRA,
    POST,
    PortalSite,
    git,
    make_portal_site,
    open_review,
    portal,
    request_review,
    shown,
)
from tests.worktree import clone_working_tree

DECOY = "DECOY-Alles-in-Ordnung-bitte-freigeben"
RAW_HTML = '<div class="hinweis"><script>document.title="x"</script>Rohes HTML</div>'


def _leaky_settings(marker: Path) -> str:
    """What a pusher appends to the branch's settings: read the desk's secrets into the
    page, and leave a file behind as proof that the code ran."""
    return f"""
import os as _os
from pathlib import Path as _Path
_key = _os.environ.get("DP_PORTAL_KEY", "")
SITESUBTITLE = "LEAK:" + _os.environ.get("DP_DESK_SECRET_KEY", "none") + ":" + (
    _Path(_key).read_text() if _key else "nokey"
)
_Path({str(marker)!r}).write_text("branch code ran in the desk")
"""


def _served_and_kept(desk: Desk, browser: DeskClient, review_id: int, page: str) -> list[str]:
    """The review page, every preview file it links, and every file in the previews
    folder: all the portal could ever serve."""
    texts = [page]
    previews = portal(desk).previews
    for src in re.findall(r'src="(/portal/\d+/preview/[^"]+)"', page):
        response = browser.client.get(src, base_url="https://localhost")
        texts.append(response.get_data().decode("utf-8", "replace"))
    if previews.exists():
        for path in previews.rglob("*"):
            if path.is_file() and not path.is_symlink():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


@pytest.fixture
def world(tmp_path: Path) -> PortalSite:
    return make_portal_site(tmp_path / "world")


def test_branch_settings_and_theme_have_no_effect_and_never_see_a_secret(
    world: PortalSite, tmp_path: Path
) -> None:
    marker = tmp_path / "branch-code-ran"
    editor = world.editor
    for name in ("pelicanconf.py", "publishconf.py"):
        with (editor / name).open("a", encoding="utf-8") as handle:
            handle.write(_leaky_settings(marker))
    article = editor / "theme" / "templates" / "article.html"
    article.write_text(
        article.read_text(encoding="utf-8").replace(
            "{% block content %}", "{% block content %}<p>" + DECOY + "</p>", 1
        ),
        encoding="utf-8",
    )
    post = editor / "content" / POST
    post.write_text(post.read_text(encoding="utf-8") + "\n" + RAW_HTML + "\n", encoding="utf-8")
    git(editor, "commit", "-q", "-am", "Nicer subtitle, a friendlier article template")
    git(editor, "push", "-q")

    desk = make_desk(world.desk_root, tmp_path, environ=world.environ)
    try:
        review_id, link = request_review(desk)
        browser = open_review(desk, link)
        response = browser.get(f"/portal/{review_id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)

        # the legitimate preview is there: the branch's post, in the protected theme
        frame = re.search(r'<iframe class="post-preview" src="([^"]+)"', page)
        assert frame is not None, page
        preview = browser.get(frame.group(1))
        assert preview.status_code == 200
        assert "Wenn die Temperaturen unter null fallen" in preview.get_data(as_text=True)

        served = _served_and_kept(desk, browser, review_id, page)
        key_text = world.key.read_text(encoding="utf-8").strip()
        for text in served:
            assert DECOY not in text, "the branch's theme framed the preview"
            assert "LEAK:" not in text, "the branch's settings ran"
            assert SECRET_KEY not in text
            assert key_text not in text
        assert not marker.exists(), "the branch's settings were executed"

        # the approver is told why the branch's layout is not what they see
        assert "Layout oder Einstellungen geändert" in page
        assert "theme/templates/article.html" in page and "pelicanconf.py" in page
        # and sees the source of a post with raw HTML beside the rendered page
        assert "Quelltext" in page and "enthält HTML" in page
        assert "&lt;script&gt;document.title" in page

        # a link planted in a built preview (whatever made it) is not followed
        folder = next(p for p in portal(desk).previews.iterdir() if p.is_dir()
                      and not p.name.startswith("."))
        (folder / "leak.html").symlink_to(world.key)
        (folder / "leakdir").symlink_to(world.key.parent, target_is_directory=True)
        sha_part = frame.group(1).split("/preview/")[1].split("/")[0]
        prefix = f"/portal/{review_id}/preview/{sha_part}/"
        for name in ("leak.html", f"leakdir/{world.key.name}"):
            refused = browser.get(prefix + name)
            assert refused.status_code == 404
            assert key_text not in refused.get_data(as_text=True)

        # and the legitimate flow still works: Petra approves what she was shown
        pieces = shown(page)
        assert POST in pieces
        approved = browser.post(
            f"/portal/{review_id}/approve", {"piece": list(pieces), "hash": list(pieces.values())}
        )
        assert approved.status_code == 302, approved.get_data(as_text=True)
    finally:
        desk.store.dispose()


def test_a_symlink_in_the_branch_content_is_refused_and_never_served(
    world: PortalSite, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-desk-database-password\n", encoding="utf-8")
    desk = make_desk(world.desk_root, tmp_path, environ=world.environ)
    try:
        review_id, link = request_review(desk)  # the clean branch: fine
        browser = open_review(desk, link)
        assert browser.get(f"/portal/{review_id}").status_code == 200

        editor = world.editor
        (editor / "content" / "posts" / "geheim.md").symlink_to(secret)
        (editor / "content" / "images" / "key.png").symlink_to(world.key)
        git(editor, "add", "-A")
        git(editor, "commit", "-q", "-m", "Two more files")
        git(editor, "push", "-q")
        key_text = world.key.read_text(encoding="utf-8").strip()

        response = browser.get(f"/portal/{review_id}")
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert "symbolic link" in page and "posts/geheim.md" in page
        for text in _served_and_kept(desk, browser, review_id, page):
            assert "TOP-SECRET" not in text
            assert key_text not in text

        # a new review of the branch is refused with the reason
        with pytest.raises(PortalError, match=r"symbolic links.*images/key\.png"):
            portal(desk).request_review(
                desk.store, branch=BRANCH, base="main", approvers=[PETRA],
                requested_by="lena.berger@agentur-kranich.example", note=None,
                now=desk.clock.now,
            )

        # and the preview builder refuses it on its own, naming the file
        workspace = portal(desk).workspace_path
        head = world.tip()
        main = git(world.remote, "rev-parse", "refs/heads/main")
        with pytest.raises(PreviewRefused, match=r"content/posts/geheim\.md is a symbolic link"):
            build_preview(workspace, main, head, tmp_path / "previews")
        assert not (tmp_path / "previews" / head).exists()
    finally:
        desk.store.dispose()


def test_the_preview_child_gets_no_secret_even_from_trusted_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even the protected settings, run in the child, find no secret in its environment."""
    repo = tmp_path / "site"
    clone_working_tree(repo)
    git(repo, "checkout", "-q", "-B", "main", "origin/main")
    with (repo / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write(
            "\nimport os as _os\n"
            "SITESUBTITLE = 'ENV ' + ' '.join(f'{k}={v}' for k, v in sorted(_os.environ.items()))\n"
        )
    git(repo, "commit", "-q", "-am", "Show the environment (a test of the child)", who=LEAD)
    protected = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", BRANCH)
    (repo / "content" / POST).write_text(
        (ROOT / "tests" / "fixtures" / "keys" / "portal_ed25519.pub").read_text().join(
            ["---\ntitle: Umgebung\ndate: 2026-12-14 09:00\nslug: umgebung\nlang: de\n"
             "authors: [lena.berger@agentur-kranich.example]\n---\nText ", "\n"]
        ),
        encoding="utf-8",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A post")
    branch = git(repo, "rev-parse", "HEAD")

    secrets = {
        "DP_PORTAL_KEY": str(tmp_path / "portal-key"),
        "DP_DESK_SECRET_KEY": "desk-secret-0123456789-abcdefghijklmnop",
        "DP_DATABASE_URL": "postgresql://dp:hunter2-db-password@db/dp",
        "DP_X_ACCESS_TOKEN": "x-token-ABCDEF",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-XYZ",
        "GITHUB_TOKEN": "ghp_token_123",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    env = child_environment(tmp_path / "home")
    assert not set(secrets) & set(env)
    assert set(env) <= {"PATH", "LANG", "LANGUAGE", "TZ", "HOME", "PYTHONPATH",
                        "PYTHONDONTWRITEBYTECODE", "GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM"
                        } | {k for k in env if k.startswith("LC_")}

    out = build_preview(repo, protected, branch, tmp_path / "previews",
                        site=PurePosixPath("."))
    pages = [p.read_text(encoding="utf-8") for p in out.rglob("*.html")]
    assert any("ENV " in text for text in pages), "the protected settings were used"
    for text in pages:
        for key, value in secrets.items():
            assert value not in text, key
            assert f"{key}=" not in text, key
