"""A client site as an attacker meets it: a git server, clones per person, real keys.

The server is a bare repository whose ``main`` is the protected branch. Each person
works in a clone of their own and signs commits with their own SSH key (git's
``gpg.format ssh``), as ``trust.yml`` asks; the forge signs squash merges with its own
key, as GitHub's web-flow key does. Everything runs through the real ``dialogpress``
command in its own process, the way CI and the scheduler run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from gitsite import JONAS, LEAD, LENA, MALLORY, PETRA, POST, SNIPPET, Person, jpeg

DIALOGPRESS = Path(sys.executable).with_name("dialogpress")
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FORGE = Person("GitHub", "noreply@github.example")
MARA = Person("Mara Klein", "mara.klein@stadtwerke-elbtal.example")
PEOPLE = (LENA, PETRA, JONAS, MALLORY, LEAD, FORGE, MARA)
NOW = "2026-11-24 10:00"

SETTINGS = textwrap.dedent(
    f"""\
    PATH = "content"
    ARTICLE_PATHS = ["posts"]
    PAGE_PATHS = ["pages"]
    STATIC_PATHS = ["images"]
    TIMEZONE = "Europe/Berlin"
    DEFAULT_LANG = "de"
    SITEURL = ""
    SOCIAL_PATHS = ["social"]
    GUIDELINE = "guideline.yml"
    PLUGIN_PATHS = [{str(PLUGINS)!r}]
    PLUGINS = ["dp_frontmatter", "dp_approval_gate"]
    DP_NOW = "{NOW}"
    # the networks are the local sandbox when a test names it (as DP_SANDBOX does for the
    # example site); the settings file itself stays the same, so its approval holds
    import os
    if os.environ.get("DP_TEST_SANDBOX_X"):
        CHANNELS = {{
            "twitter": {{"api_base": os.environ["DP_TEST_SANDBOX_X"], "timeout": 5}},
            "facebook": {{"api_base": os.environ["DP_TEST_SANDBOX_FB"],
                         "page_id": os.environ["DP_TEST_PAGE_ID"], "timeout": 5}},
        }}
    """
)
PUBLISH = (
    "from pathlib import Path\n"
    "from pelican.settings import get_settings_from_file\n"
    "globals().update(get_settings_from_file(str(Path(__file__).with_name('pelicanconf.py'))))\n"
    "SITEURL = 'https://service.example.test'\n"
    "RELATIVE_URLS = False\n"
)
GUIDELINE = "forbidden:\n  - phrase: garantiert\n    reason: Wir geben keine Garantien.\n"


def make_keys(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    keys: dict[str, Path] = {}
    for person in PEOPLE:
        key = folder / person.key_name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", person.email, "-f", str(key)],
            check=True,
        )
        keys[person.email] = key
    portal = folder / "portal"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(portal)],
                   check=True)
    keys["portal"] = portal
    return keys


def public(keys: dict[str, Path], who: Person | str) -> str:
    name = who if isinstance(who, str) else who.email
    return keys[name].with_name(keys[name].name + ".pub").read_text().strip()


def trust_text(keys: dict[str, Path], approvers: tuple[Person, ...] = (PETRA, JONAS),
               required: int = 1, editors: tuple[Person, ...] = (LENA, LEAD),
               unsigned: str = "refuse", portal_for: tuple[Person, ...] = (PETRA,),
               frame: tuple[str, ...] | None = None) -> str:
    lines = ["version: 1", "approvers:"]
    for p in approvers:
        lines += [f"  - name: {p.name}", f"    email: {p.email}", f"    key: {public(keys, p)}"]
    lines += [f"required_approvals: {required}", "portal:", f"  key: {public(keys, 'portal')}",
              "  approvers:"]
    lines += [f"    - {p.email}" for p in portal_for]
    lines.append("editors:")
    for p in editors:
        lines += [f"  - name: {p.name}", f"    email: {p.email}",
                  f"    keys: [{public(keys, p)}]"]
    lines += ["forge:", f"  keys: [{public(keys, FORGE)}]",
              "authorship:", f"  unsigned: {unsigned}"]
    if frame is not None:
        lines += ["site:", "  files:", *(f"    - {pattern}" for pattern in frame)]
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


@dataclass
class Clone:
    """One person's clone of the site; commits are signed with their key."""

    root: Path
    who: Person
    keys: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)

    def git(self, *args: str, sign: bool = True, who: Person | None = None,
            check: bool = True) -> str:
        person = who or self.who
        config = ["-c", f"user.name={person.name}", "-c", f"user.email={person.email}",
                  "-c", "gpg.format=ssh",
                  "-c", f"user.signingkey={self.keys[self.who.email]}",
                  "-c", f"commit.gpgsign={'true' if sign else 'false'}"]
        result = subprocess.run(["git", *config, *args], cwd=self.root, capture_output=True,
                                text=True, check=False, timeout=120)
        if check:
            assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
        return result.stdout

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.root / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def commit(self, message: str, sign: bool = True, who: Person | None = None) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, sign=sign, who=who)
        return self.git("rev-parse", "HEAD").strip()

    def dp(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """The real command, in its own process, in this clone."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("DP_", "GIT_"))}
        environ.update(self.env)
        environ.update(env or {})
        result = subprocess.run([str(DIALOGPRESS), *args], cwd=self.root, capture_output=True,
                                text=True, check=False, env=environ, timeout=300)
        return Run(result.returncode, result.stdout, result.stderr)

    def key(self, who: Person | None = None) -> str:
        return str(self.keys[(who or self.who).email])

    def approve(self, *args: str, who: Person | None = None) -> Run:
        return self.dp("approve", "--yes", "--now", NOW, "--key", self.key(who), *args)


@dataclass
class World:
    server: Path
    keys: dict[str, Path]
    folder: Path
    clones: int = 0

    def clone(self, who: Person, branch: str = "main") -> Clone:
        self.clones += 1
        root = self.folder / f"{self.clones:02d}-{who.key_name}-{branch.replace('/', '-')}"
        subprocess.run(["git", "clone", "-q", "-b", branch, str(self.server), str(root)],
                       check=True, timeout=120)
        return Clone(root, who, self.keys)


# The server of each world made, by its keys and trust: setting one up takes two
# approvals, three clones and four pushes through the real command (4-5 s of each of the
# 24 tests' set-up on a busy machine). Every later test gets a copy of that bare
# repository (it holds no absolute paths), so what it pushes stays its own.
_SERVERS: dict[tuple[str, str], tuple[Path, int]] = {}


def make_world(folder: Path, keys: dict[str, Path], **trust: object) -> World:
    """A protected ``main`` with the site, its trust file and the approved layout."""
    known = (repr(sorted((k, str(v)) for k, v in keys.items())), repr(sorted(trust.items())))
    if known in _SERVERS and _SERVERS[known][0].is_dir():
        template, clones = _SERVERS[known]
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(template, folder / "server.git", symlinks=True)
        return World(folder / "server.git", keys, folder, clones)
    world = _make_world(folder, keys, **trust)
    # beside the keys, which live as long as the module that made them
    template = next(iter(keys.values())).parent / "servers" / f"{len(_SERVERS)}.git"
    shutil.copytree(world.server, template, symlinks=True)
    _SERVERS[known] = (template, world.clones)
    return world


def _make_world(folder: Path, keys: dict[str, Path], **trust: object) -> World:
    server = folder / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(server)], check=True)
    world = World(server, keys, folder)
    admin = Clone(folder / "setup", LEAD, keys)
    subprocess.run(["git", "clone", "-q", str(server), str(admin.root)], check=True,
                   capture_output=True)
    admin.write("pelicanconf.py", SETTINGS)
    admin.write("publishconf.py", PUBLISH)
    admin.write("guideline.yml", GUIDELINE)
    admin.write(".gitignore", "output/\n__pycache__/\n*.db\n.dialogpress/\n")
    admin.write("trust.yml", trust_text(keys, **trust))  # type: ignore[arg-type]
    admin.commit("Start the site with its trust file")
    admin.git("push", "-q", "origin", "main")
    # the client's first approval of the layout, on main
    approver = world.clone(PETRA)
    run = approver.approve("--site")
    assert run.code == 0, run.output
    approver.commit("Approve the layout")
    approver.git("push", "-q", "origin", "main")
    if int(trust.get("required", 1)) > 1:  # type: ignore[call-overload]
        second = world.clone(JONAS)
        run = second.approve("--site")
        assert run.code == 0, run.output
        second.commit("Approve the layout too")
        second.git("push", "-q", "origin", "main")
        approver.git("pull", "-q", "--ff-only")
    # Lena's first post and snippet, approved by Petra
    editor = world.clone(LENA)
    editor.write("content/images/team.jpg", jpeg(b"team-1"))
    editor.write("content/posts/service-im-advent.md", POST)
    editor.write("content/social/2026-11-24-advent.md", SNIPPET)
    editor.commit("Advent post and snippet")
    editor.git("push", "-q", "origin", "main")
    approver.git("pull", "-q", "--ff-only")
    run = approver.approve("content")
    assert run.code == 0, run.output
    approver.commit("Approve the advent pieces")
    approver.git("push", "-q", "origin", "main")
    return world
