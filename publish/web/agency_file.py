"""A minimal reader of the agency file for the agency desk (issue 20).

The agency file's owner is :mod:`publish.ops.agency` (``load_agency``), written in
parallel by the agency-worker part; until it is merged the desk reads the same shape
here: the database, the workdir and, per site, its key, name and settings file. The
desk needs nothing else. When both are on main this module becomes a re-export of
``publish.ops.agency``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class AgencyError(ValueError):
    """The agency file cannot be used; the message names the file, the line and the field."""

    def __init__(self, file: Path, line: int | None, field: str, problem: str) -> None:
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {field}: {problem}")
        self.file, self.line, self.field = file, line, field


@dataclass(frozen=True)
class AgencySite:
    key: str
    name: str
    remote: str
    branch: str
    settings: str
    secrets: str | None


@dataclass(frozen=True)
class Agency:
    database_url: str
    workdir: Path
    lease_seconds: int
    every_minutes: int
    sites: tuple[AgencySite, ...]

    def settings_path(self, site: AgencySite) -> Path:
        """The site's settings file in its workspace ``<workdir>/<key>``."""
        return self.workdir / site.key / site.settings

    def site(self, key: str) -> AgencySite | None:
        return next((site for site in self.sites if site.key == key), None)


class _Loader(yaml.SafeLoader):
    """Safe YAML that remembers each mapping's line, for error messages."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    found = {str(key): value for key, value in loader.construct_mapping(node, deep=True).items()}
    found["__line__"] = node.start_mark.line + 1
    return found


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_agency(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Agency:
    """The agency file at ``path``; :class:`AgencyError` for anything unusable."""
    file = Path(path)
    env = os.environ if environ is None else environ
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 — _Loader is a SafeLoader
    except OSError as exc:
        raise AgencyError(file, None, "file", exc.strerror or str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise AgencyError(
            file, mark.line + 1 if mark else None, "yaml", str(getattr(exc, "problem", exc))
        ) from None
    if not isinstance(data, dict):
        raise AgencyError(file, 1, "file", "must be a mapping with database_url, workdir, sites")
    line = int(data.get("__line__", 1))
    url = data.get("database_url")
    if url is None and data.get("database_url_env"):
        url = env.get(str(data["database_url_env"]))
        if not url:
            raise AgencyError(
                file, line, "database_url_env", f"{data['database_url_env']} is not set"
            )
    if not isinstance(url, str) or not url:
        raise AgencyError(file, line, "database_url", "missing (or give database_url_env)")
    workdir = data.get("workdir")
    if not isinstance(workdir, str) or not workdir:
        raise AgencyError(file, line, "workdir", "missing: the folder of the sites' workspaces")
    raw_sites = data.get("sites")
    if not isinstance(raw_sites, list) or not raw_sites:
        raise AgencyError(file, line, "sites", "missing or empty: a list of sites")
    sites: list[AgencySite] = []
    for index, raw in enumerate(raw_sites):
        if not isinstance(raw, dict):
            raise AgencyError(file, line, f"sites[{index}]", "must be a mapping")
        sites.append(_site(file, index, raw, {s.key for s in sites}))
    root = Path(workdir)
    return Agency(
        database_url=url,
        workdir=root if root.is_absolute() else file.parent / root,
        lease_seconds=int(data.get("lease_seconds", 120)),
        every_minutes=int(data.get("every_minutes", 5)),
        sites=tuple(sites),
    )


def _site(file: Path, index: int, raw: dict[str, Any], seen: set[str]) -> AgencySite:
    line = int(raw.get("__line__", 1))
    key = raw.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise AgencyError(
            file, line, f"sites[{index}].key", f"{key!r} is no key ([a-z0-9][a-z0-9-]{{0,62}})"
        )
    if key in seen:
        raise AgencyError(file, line, f"sites[{index}].key", f"{key!r} is listed twice")
    for field in ("remote",):
        if not isinstance(raw.get(field), str) or not raw[field]:
            raise AgencyError(file, line, f"sites[{index}].{field}", "missing")
    secrets = raw.get("secrets")
    return AgencySite(
        key=key,
        name=str(raw.get("name") or key),
        remote=str(raw["remote"]),
        branch=str(raw.get("branch") or "main"),
        settings=str(raw.get("settings") or "publishconf.py"),
        secrets=str(secrets) if secrets else None,
    )
