"""The agency file: which client sites one PostgreSQL serves, and where each one lives.

An agency runs dozens of sites on a few workers (``dialogpress run --agency FILE``) and
one desk. The file lists them once, in YAML::

    database_url_env: DP_AGENCY_DATABASE_URL   # or database_url: postgresql+psycopg://…
    workdir: /var/lib/dialogpress              # each site's git workspace: <workdir>/<key>
    lease_seconds: 120
    every_minutes: 5
    sites:
      - key: client-a
        name: "Bäckerei Müller"
        remote: git@git.example:client-a.git
        branch: main
        settings: publishconf.py
        secrets: /etc/dialogpress/client-a.env

Every mistake is an :class:`AgencyError` naming the file, the line and the field, the way
``guideline.yml`` is read (the same node walker, so a value keeps its line). Relative
paths (``workdir``, ``secrets``, a local ``remote``) start at the agency file's folder:
the file can be moved with the folder it describes. The password of the database stays
out of the file when ``database_url_env`` names the variable that holds the URL. The
workers need PostgreSQL (:func:`publish.ops.agency_run.open_agency_store` says so); the
desk reads the same file, also over SQLite on one machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from editorial.guideline import GuidelineError, _Reader
from editorial.settings import DataFileError

#: a site's key: what ``DP_SITE`` and the store's ``site`` column hold
SITE_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

DEFAULT_LEASE_SECONDS = 120
DEFAULT_EVERY_MINUTES = 5.0
DEFAULT_TICK_TIMEOUT_SECONDS = 1800

_TOP = (
    "database_url", "database_url_env", "workdir", "lease_seconds", "every_minutes",
    "tick_timeout_seconds", "sites",
)  # fmt: skip
_SITE = ("key", "name", "remote", "branch", "settings", "secrets")


class AgencyError(DataFileError):
    """The agency file cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class AgencySite:
    """One client site: its key, its name for people, where its git repository is."""

    key: str
    name: str
    remote: str
    branch: str = "main"
    settings: str = "publishconf.py"
    secrets: Path | None = None


@dataclass(frozen=True)
class Agency:
    """The agency file as read: one database, one workdir, the sites in file order.

    The database URL holds its password: it stays out of the repr (and so of logs)."""

    database_url: str = field(repr=False)
    workdir: Path
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    every_minutes: float = DEFAULT_EVERY_MINUTES
    sites: tuple[AgencySite, ...] = ()
    tick_timeout_seconds: int = DEFAULT_TICK_TIMEOUT_SECONDS
    path: Path | None = None

    def site(self, key: str) -> AgencySite | None:
        return next((site for site in self.sites if site.key == key), None)

    def workspace(self, site: AgencySite) -> Path:
        """The site's own git workspace: ``<workdir>/<key>``."""
        return self.workdir / site.key

    def settings_path(self, site: AgencySite) -> Path:
        """The site's settings file in its workspace (what its tick and its desk read)."""
        return self.workspace(site) / site.settings


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _compose(path: Path, display: str) -> yaml.Node:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AgencyError(display, None, None, "the agency file does not exist") from None
    except UnicodeDecodeError:
        raise AgencyError(display, None, None, "the file is not UTF-8; save it as UTF-8") from None
    except OSError as exc:
        raise AgencyError(display, None, None, f"cannot read it: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise AgencyError(
            display,
            mark.line + 1 if mark else None,
            None,
            f"not valid YAML: {exc.problem}; check quotes, colons and indentation",
        ) from None
    if root is None:
        raise AgencyError(display, 1, None, "the file is empty; see docs/agency.md")
    return root


def load_agency(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> Agency:
    """Read and check the agency file; any mistake is an :class:`AgencyError`.

    ``environ`` (default: the process's) is where ``database_url_env`` is looked up.

    Example:
        agency = load_agency("/etc/dialogpress/agency.yml")
    """
    file = Path(path)
    display = _display(file)
    root = _compose(file, display)
    try:
        return _read(_Reader(file, display), root, file, os.environ if environ is None else environ)
    except GuidelineError as exc:  # the walker's own errors: same fields, our type
        raise AgencyError(exc.path, exc.line, exc.field, exc.message) from None


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _is_url(remote: str) -> bool:
    # git's own rule: a colon before any slash is scp-like (host:path); else a URL or a path
    head = remote.split("/", 1)[0]
    return "://" in remote or (":" in head and not Path(remote).is_absolute())


def _read(reader: _Reader, root: yaml.Node, file: Path, environ: Mapping[str, str]) -> Agency:
    keys = reader.mapping(root, "", _TOP, required=("workdir", "sites"))
    base = file.resolve().parent
    if ("database_url" in keys) == ("database_url_env" in keys):
        raise reader.error(
            root, "database_url",
            "give either 'database_url' or 'database_url_env' (the variable holding the URL)",
        )  # fmt: skip
    if "database_url" in keys:
        url = reader.text(keys["database_url"][1], "database_url")
    else:
        node = keys["database_url_env"][1]
        name = reader.text(node, "database_url_env")
        url = environ.get(name, "").strip()
        if not url:
            raise reader.error(node, "database_url_env", f"the variable {name} is not set")
    workdir = _resolve(base, reader.text(keys["workdir"][1], "workdir"))
    lease = DEFAULT_LEASE_SECONDS
    if "lease_seconds" in keys:
        lease = reader.count(keys["lease_seconds"][1], "lease_seconds")
        if lease < 1:
            raise reader.error(keys["lease_seconds"][1], "lease_seconds", "must be 1 or more")
    every = DEFAULT_EVERY_MINUTES
    if "every_minutes" in keys:
        node = keys["every_minutes"][1]
        value = reader.value(node)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise reader.error(node, "every_minutes", "must be a number of minutes above 0")
        every = float(value)
    timeout = DEFAULT_TICK_TIMEOUT_SECONDS
    if "tick_timeout_seconds" in keys:
        node = keys["tick_timeout_seconds"][1]
        timeout = reader.count(node, "tick_timeout_seconds")
        if timeout < 1:
            raise reader.error(node, "tick_timeout_seconds", "must be 1 or more")
    sites: list[AgencySite] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(reader.sequence(keys["sites"][1], "sites")):
        field = f"sites[{index}]"
        site = _site(reader, node, field, base)
        if site.key in seen:
            raise reader.error(
                node, f"{field}.key",
                f"'{site.key}' is listed twice (also sites[{seen[site.key]}]); keys are unique",
            )  # fmt: skip
        seen[site.key] = index
        sites.append(site)
    return Agency(
        database_url=url,
        workdir=workdir,
        lease_seconds=lease,
        every_minutes=every,
        sites=tuple(sites),
        tick_timeout_seconds=timeout,
        path=file.resolve(),
    )


def _site(reader: _Reader, node: yaml.Node, field: str, base: Path) -> AgencySite:
    keys = reader.mapping(node, field, _SITE, required=("key", "remote"))
    key_node = keys["key"][1]
    key = reader.text(key_node, f"{field}.key")
    if not SITE_KEY.fullmatch(key):
        raise reader.error(
            key_node, f"{field}.key",
            f"'{key}' is not a site key: lower-case letters, digits and '-', starting with a "
            "letter or digit, at most 63 characters",
        )  # fmt: skip
    remote = reader.text(keys["remote"][1], f"{field}.remote")
    if not _is_url(remote):
        remote = str(_resolve(base, remote))
    name = reader.text(keys["name"][1], f"{field}.name") if "name" in keys else key
    branch = reader.text(keys["branch"][1], f"{field}.branch") if "branch" in keys else "main"
    if branch.startswith("-") or any(c in branch for c in " ~^:?*[\\"):
        raise reader.error(keys["branch"][1], f"{field}.branch", f"'{branch}' is not a branch")
    settings = "publishconf.py"
    if "settings" in keys:
        settings_node = keys["settings"][1]
        settings = reader.text(settings_node, f"{field}.settings")
        if Path(settings).is_absolute() or ".." in Path(settings).parts:
            raise reader.error(
                settings_node, f"{field}.settings",
                "must be a path inside the site's workspace, such as publishconf.py",
            )  # fmt: skip
    secrets = None
    if "secrets" in keys:
        secrets = _resolve(base, reader.text(keys["secrets"][1], f"{field}.secrets"))
    return AgencySite(key, name, remote, branch, settings, secrets)


class SecretsError(ValueError):
    """A site's secrets file cannot be used; the message names the file and line."""


def read_secrets(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, blank lines) of a site's secrets file.

    The file must be readable by its owner only: it holds the site's network tokens.
    ``DP_DATABASE_URL`` and ``DP_SITE`` are the worker's to set, never a site's.
    """
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretsError(f"{path}: the secrets file is not UTF-8") from None
    if mode & 0o077:
        raise SecretsError(
            f"{path}: readable by others (mode {mode & 0o777:o}); it holds credentials: "
            f"chmod 600 {path}"
        )
    found: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, value = text.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SecretsError(f"{path}:{number}: expected 'NAME=value'")
        if name in ("DP_DATABASE_URL", "DP_SITE", "DATABASE_URL"):
            raise SecretsError(
                f"{path}:{number}: {name} is set by the agency worker, not by a site's secrets"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name] = value
    return found


#: what a client's code never gets from the process that runs it: the agency's own
#: settings and secrets (every ``DP_*`` variable, the database), and so no other client's
WITHHELD_PREFIXES = ("DP_",)
WITHHELD = ("DATABASE_URL",)


def site_environment(
    site: AgencySite, environ: Mapping[str, str], *, keep: tuple[str, ...] = ()
) -> dict[str, str]:
    """The environment one client's site is served or ticked with: ours without the
    withheld variables (but those named in ``keep``), then that site's secrets file
    (:class:`SecretsError`), so that one client's tokens never act for another."""
    own = {
        name: value
        for name, value in environ.items()
        if name in keep or not (name.startswith(WITHHELD_PREFIXES) or name in WITHHELD)
    }
    if site.secrets is not None:
        own.update(read_secrets(site.secrets))
    return own
