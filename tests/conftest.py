"""Fixtures for every test: the repository, its example site's settings, and its build.

The example site (Stadtwerke Elbtal) is the project's own content; tests that need a
real site build it into their tmp folder rather than into the repository's output/.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from editorial.settings import Settings, load_settings, pelican_limits_its_own_logs
from publish.site.build import BuildResult, build_site

BuildExample = Callable[..., BuildResult]


@pytest.fixture(autouse=True, scope="session")
def english_cli() -> Iterator[None]:
    """The CLI speaks the environment's language, else the site's (German for the example
    site); the tests read its English. ``LANGUAGE``, which chooses the words only: a
    ``LC_*`` naming a locale this machine lacks would make Pelican warn about it. For the
    whole session, before any fixture copies the environment for a subprocess. Tests of
    the German choose their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LANGUAGE", "en")
        yield


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root, where pelicanconf.py and content/ are."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def example_settings(repo_root: Path) -> Settings:
    """The example site's settings as dialogpress reads them (defaults and checks applied)."""
    return load_settings(repo_root / "pelicanconf.py")


@pytest.fixture
def build_example(repo_root: Path, tmp_path: Path) -> BuildExample:
    """Build the example site into ``tmp_path/out`` (``out-production`` for production)."""

    def build(production: bool = False, override: dict[str, Any] | None = None) -> BuildResult:
        output = tmp_path / ("out-production" if production else "out")
        return build_site(
            repo_root / "pelicanconf.py", production=production, output=output, override=override
        )

    return build


# --- a real PostgreSQL server for the test session --------------------------------------
#
# The server is Debian's (``/usr/lib/postgresql/<version>/bin``), initialised in a
# temporary folder and listening on 127.0.0.1 at a free port plus a unix socket there.
# initdb refuses to run as root, and tests run as root here and in CI, so as root the
# server runs as the ``postgres`` system user that Debian's package creates (the folder
# is handed to it); as anyone else it runs as the current user. Each test gets a database
# of its own. Missing binaries fail the tests: a skipped PostgreSQL run would let a
# dialect-specific bug through unnoticed. Here rather than in tests/publish/store so that
# every test (the delivery fault-injection runs too) shares the one server.

MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; "
    "run `make test`, which installs Debian's postgresql package (scripts/apt-install.sh)"
)


def _bin_dir() -> Path:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]
    if not found:
        pytest.fail(MISSING, pytrace=False)
    return max(found, key=version)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str = "postgres"

    def url(self, database: str, password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://{self.user}{secret}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self) -> str:
        name = f"dp_{uuid.uuid4().hex[:16]}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def shut_out(self, name: str) -> None:
        """The database goes away for its clients: no new connections, the open ones cut."""
        with self.admin() as connection:
            connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test session's own; stopped and removed at its end."""
    bin_dir = _bin_dir()
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "running as root, but there is no 'postgres' system user to run the test "
                "server as (Debian's postgresql package creates it); " + MISSING,
                pytrace=False,
            )
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="dp-pg-"))
    data, log = base / "data", base / "server.log"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        completed = subprocess.run(
            [*as_user, *args], cwd=base, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            pytest.fail(
                f"{' '.join(args[:2])} failed ({completed.returncode}):\n"
                f"{completed.stdout}{completed.stderr}{server_log}",
                pytrace=False,
            )

    port = _free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {base} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        run(
            str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        yield PostgresServer(host="127.0.0.1", port=port)
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            cwd=base,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgresql_url(postgresql_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = postgresql_server.create_database()
    try:
        yield postgresql_server.url(name)
    finally:
        postgresql_server.drop_database(name)


def pytest_configure(config: pytest.Config) -> None:
    """Tests assert on our log lines, and a test that imports Pelican without reading
    settings would otherwise have Pelican drop every line it saw in an earlier test."""
    pelican_limits_its_own_logs()
