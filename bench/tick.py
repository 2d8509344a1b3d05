"""How long a scheduler tick takes when something changed, and when nothing did.

Cron runs ``dialogpress tick`` every few minutes, and almost every run finds nothing new;
such an idle tick must stay cheap on a large site, or cron runs pile up. This script
measures two ticks in a row (the first builds and deploys, the second must skip both) on
the example site and on a generated site of many German posts, each in a temp folder, as
cron would run them: ``dialogpress`` in a subprocess. No network: the environment loses
every ``DP_*`` variable, so no credentials are set and both channels pause.

Run it with ``make bench``; the figures go to ``bench/results/tick.json``. It exits 1 when
a second tick built, deployed or posted anything, since that is the behaviour measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-24 10:00"
AUTHORS = ["lena.berger@agentur-kranich.example", "jonas.meier@agentur-kranich.example"]
CATEGORIES = ["Service", "Störungen", "Energie", "Wasser", "Unternehmen"]
TAGS = [
    "Fernwärme",
    "Strom",
    "Wasserhärte",
    "Kundenservice",
    "Baustellen",
    "Zählerstand",
    "Abschlag",
    "Energiesparen",
    "Öffnungszeiten",
    "Netzausbau",
    "Glasfaser",
    "Tarife",
]
WORDS = [
    "Kundinnen",
    "Kunden",
    "Zähler",
    "Straße",
    "Hausanschluss",
    "Leitung",
    "Versorgung",
    "Störung",
    "Rückmeldung",
    "Abrechnung",
    "Grundgebühr",
    "Wärmepumpe",
    "Trinkwasser",
    "Härtegrad",
    "Netzgebiet",
    "Umstellung",
    "Prüfung",
    "Bürgerbüro",
    "Öffnungszeiten",
    "Übergabe",
    "Gebäude",
    "Maßnahme",
    "Qualität",
    "Sicherheit",
    "Kläranlage",
    "Fernwärme",
    "Solaranlage",
    "Einspeisung",
    "Vertrag",
    "Kündigung",
    "Frist",
    "Ausweis",
    "Wohnung",
    "Nachbarschaft",
    "schnell",
    "zuverlässig",
    "geprüft",
    "gemeinsam",
    "pünktlich",
    "übersichtlich",
    "größer",
    "schöner",
    "nächste",
    "wöchentlich",
    "täglich",
    "heute",
    "morgen",
    "außerdem",
    "natürlich",
    "selbstverständlich",
    "dafür",
    "darüber",
]
LINKS = [
    "https://www.stadtwerke-elbtal.example/stoerungen",
    "https://www.stadtwerke-elbtal.example/kundenportal",
    "https://www.stadtwerke-elbtal.example/tarife",
]
# what a copied example configuration needs besides its content
SITE_FILES = ["pelicanconf.py", "publishconf.py", "guideline.yml"]
SITE_DIRS = ["theme", "plugins", "content/pages", "content/images"]
GENERATED_SETTINGS = """
# --- bench/tick.py: a generated site; its trust.yml keeps every generated post public
"""
# Every generated post counts as live before approvals started (docs/adopting.md), so a
# production tick builds them all without 5,000 signatures; no layout approval either.
# One client approver signs the edits the benchmark makes, as in a real newsroom: an edit
# without a fresh approval withdraws the post instead (and rebuilds every page listing it).
APPROVER = ("Kundin Stadtwerke", "kundin@stadtwerke-elbtal.example")
EDITOR = ("Lena Berger", AUTHORS[0])
GENERATED_TRUST = """\
version: 1
approvers:
  - name: {name}
    email: {email}
    key: {key}
approvals_start: "2099-12-31T00:00:00+00:00"
authorship:
  unsigned: author-field
site:
  files: []
"""


class BenchError(Exception):
    """A tick that did not behave as measured; the message says how."""


def _slug(text: str) -> str:
    folded = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


def _sentence(rng: random.Random, low: int = 6, high: int = 14) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return words[0][:1].upper() + words[0][1:] + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def post_text(rng: random.Random, number: int) -> tuple[str, str]:
    """One post's file name and text: front matter as in content/posts/, a German body."""
    title = f"{_sentence(rng, 3, 6)[:-1]} ({number})"
    slug = _slug(title)
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    year = 2024 + (number // 336) % 3
    meta = {
        "title": title,
        "date": f"{year}-{month:02d}-{day:02d} {8 + number % 10:02d}:00",
        "slug": slug,
        "lang": "de",
        "category": rng.choice(CATEGORIES),
        "tags": rng.sample(TAGS, k=rng.randint(1, 3)),
        "authors": [rng.choice(AUTHORS)],
        "summary": _sentence(rng, 10, 18),
    }
    # JSON is YAML flow style; dates stay plain, as editors write them
    front = "\n".join(
        f"{key}: {value if key == 'date' else json.dumps(value, ensure_ascii=False)}"
        for key, value in meta.items()
    )
    body = [_paragraph(rng)]
    for _ in range(rng.randint(1, 3)):
        body.append(f"## {_sentence(rng, 2, 5)[:-1]}")
        body.append(_paragraph(rng))
        body.append("\n".join(f"- {_sentence(rng, 3, 7)}" for _ in range(rng.randint(2, 4))))
        link = rng.choice(LINKS)
        body.append(f"Mehr dazu: [„{rng.choice(WORDS)}“ im Überblick]({link}).")
    return f"{slug}.md", f"---\n{front}\n---\n\n" + "\n\n".join(body) + "\n"


BENCH = ("Bench", "bench@kranich.example")


def _git(folder: Path, *args: str, who: tuple[str, str] = BENCH) -> None:
    subprocess.run(
        ["git", "-c", f"user.name={who[0]}", "-c", f"user.email={who[1]}", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def generate_site(folder: Path, posts: int, seed: int) -> None:
    """The example's configuration, theme and plugins with ``posts`` generated posts, in git."""
    for name in SITE_FILES:
        shutil.copy2(REPO / name, folder / name)
    for name in SITE_DIRS:
        shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    with (folder / "pelicanconf.py").open("a", encoding="utf-8") as settings:
        settings.write(GENERATED_SETTINGS)
    (folder / "trust.yml").write_text(
        GENERATED_TRUST.format(
            name=APPROVER[0],
            email=APPROVER[1],
            key=approver_key(folder).with_suffix(".pub").read_text(encoding="utf-8").strip(),
        ),
        encoding="utf-8",
    )
    target = folder / "content" / "posts"
    target.mkdir(parents=True)
    rng = random.Random(seed)  # noqa: S311 -- reproducible text, not secrets
    for number in range(1, posts + 1):
        name, text = post_text(rng, number)
        (target / name).write_text(text, encoding="utf-8")
    _git(folder, "init", "--quiet", "--initial-branch=main")
    _git(folder, "add", ".")
    _git(folder, "commit", "--quiet", "-m", f"{posts} generated posts")


def approver_key(site: Path) -> Path:
    """The client approver's SSH key, made by ``ssh-keygen`` beside (not in) the site."""
    key = site.parent / f"{site.name}-approver-key"
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", APPROVER[1], "-f", str(key)],
            check=True,
            capture_output=True,
        )
    return key


def clone_example(folder: Path) -> None:
    """The example site with its history, which its approvals are checked against."""
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(folder)], check=True, capture_output=True
    )


def _dialogpress() -> str:
    beside = Path(sys.executable).parent / "dialogpress"
    return str(beside) if beside.is_file() else shutil.which("dialogpress") or "dialogpress"


def run_tick(site: Path, now: str) -> dict[str, Any]:
    """One ``dialogpress tick`` as cron runs it, timed from start to exit."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DP_")}
    command = [_dialogpress(), "tick", "--now", now, "--format", "json", "-s", "pelicanconf.py"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=site, env=environ, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise BenchError(
            f"tick in {site} printed no summary (exit {done.returncode}):\n{tail}"
        ) from exc
    steps = {step["name"]: step["status"] for step in summary["steps"]}
    live = site / "public"
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "pages": sum(1 for _ in live.rglob("*.html")) if live.exists() else 0,
        "exit_code": done.returncode,
        "status": summary["status"],
        "build": steps.get("build"),
        "deploy": steps.get("deploy"),
        "built": summary["built"],
        "deployed": summary["deployed"],
        "posted": summary["posted"],
        "steps": summary["steps"],
    }


def check_second(site: str, second: dict[str, Any]) -> None:
    """The second tick must build, deploy and post nothing, and say so."""
    if second["build"] != "skipped" or second["deploy"] != "skipped":
        raise BenchError(
            f"{site}: the second tick did not skip (build {second['build']}, "
            f"deploy {second['deploy']})"
        )
    if second["built"] or second["deployed"] or second["posted"]:
        raise BenchError(f"{site}: the second tick built, deployed or posted something")


def edit_one_post(site: Path) -> None:
    """Change one post's body as a newsroom does: the editor commits, the client approves.

    The approval is signed with ``dialogpress approve`` and committed by the approver, so
    the edited post stays public and the tick's build renders only what the edit touched.
    (The example site has no approver key here: its edit stays uncommitted and withdraws
    the post, which is also a tick after one change.)
    """
    posts = sorted((site / "content" / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    with post.open("a", encoding="utf-8") as file:
        file.write("\nNachtrag: Die Störung ist behoben.\n")
    key = site.parent / f"{site.name}-approver-key"
    if not key.exists():
        return
    _git(site, "commit", "--quiet", "-am", "Nachtrag", who=EDITOR)
    approve = [
        _dialogpress(),
        "approve",
        str(post),
        "--key",
        str(key),
        "--yes",
        "--base",
        "HEAD~1",
        "--now",
        "2026-11-24 09:00",
    ]
    done = subprocess.run(approve, cwd=site, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"approving the edit failed: {done.stderr.strip()}")
    _git(site, "commit", "--quiet", "-am", "Freigabe", who=APPROVER)


def bench_site(name: str, folder: Path, posts: int, now: str) -> dict[str, Any]:
    first = run_tick(folder, now)
    second = run_tick(folder, now)
    check_second(name, second)
    service = service_idle_cpu(folder, now)
    edit_one_post(folder)
    started = time.time()
    edited = run_tick(folder, now)
    if edited["build"] != "done":
        raise BenchError(f"{name}: the tick after an edit did not build ({edited['build']})")
    # what the incremental build wrote: the pages whose inputs the edit changed
    built = folder / ".dialogpress" / "build" / "site"
    edited["pages_written"] = sum(
        1 for path in built.rglob("*.html") if path.stat().st_mtime >= started
    )
    return {
        "site": name,
        "posts": posts,
        "first": first,
        "second": second,
        "edit": edited,
        "service_idle_cpu_seconds": service,
        "ratio": round(second["seconds"] / first["seconds"], 3) if first["seconds"] else None,
    }


SERVICE_TICKS = """
import os, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
from publish.ops.scheduler import tick
now = datetime.fromisoformat(sys.argv[1]).replace(tzinfo=ZoneInfo(sys.argv[2]))
best = float("inf")
for _ in range(4):  # the first pays for what the process loads once
    started = time.process_time()
    summary = tick("pelicanconf.py", now, environ=dict(os.environ))
    if summary.status != "skipped":
        sys.exit(f"an idle tick in the service did not skip: {summary.status}")
    best = min(best, time.process_time() - started)
print(best)
"""


def service_idle_cpu(site: Path, now: str) -> float:
    """CPU seconds of an idle tick inside one long-running process, as ``dialogpress run``
    ticks (imports are paid once there; cron's ``tick`` pays them every time): the best
    of three after a first."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DP_")}
    done = subprocess.run(
        [sys.executable, "-c", SERVICE_TICKS, now, "Europe/Berlin"],
        cwd=site, env=environ, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"idle ticks in one process failed in {site}: {done.stderr[-2000:]}")
    return round(float(done.stdout.strip().splitlines()[-1]), 3)


def help_cpu() -> float:
    """CPU seconds of ``dialogpress --help`` in a fresh process (the best of three)."""
    best = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([_dialogpress(), "--help"], capture_output=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return round(best, 3)


def stock_full_seconds(scratch: Path, posts: int, seed: int) -> float | None:
    """Stock Pelican's full build of as many generated posts (bench/build.py's copy)."""
    spec = importlib.util.spec_from_file_location("bench_build", REPO / "bench" / "build.py")
    if spec is None or spec.loader is None:
        return None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    _, stock = build.generate_sites(scratch / "stock-sites", posts, seed)
    return float(build.measure("stock", stock, scratch / "stock-out")["wall_seconds"])


# the issue's rows (#19) this script measures: today, goal
ROWS = {
    "tick_edit": (
        "tick after one post's body changed vs stock Pelican full build",
        "≈ 0.6× (full)",
        "≤ 0.05×",
    ),
    "idle_cpu": ("idle tick, CPU seconds", "≈ 2.4 s (example)", "≤ 0.5 s"),
    "help_cpu": ("`dialogpress --help` CPU", "≈ 1.6 s", "≤ 0.3 s"),
}


def issue_rows(results: list[dict[str, Any]], stock: float | None, help_s: float) -> list[str]:
    head = f"{'what':<66} {'today':>16} {'goal':>9} {'measured':>22}"
    lines = [head]
    label, today, goal = ROWS["tick_edit"]
    for row in results:
        if row["site"] != "generated":
            continue
        edit = row["edit"]["seconds"]
        ratio = f"{edit / stock:.3f}× ({edit:.1f} s)" if stock else f"{edit:.1f} s"
        lines.append(f"{label + ', ' + str(row['posts']):<66} {today:>16} {goal:>9} {ratio:>22}")
    label, today, goal = ROWS["idle_cpu"]
    for row in results:
        name = f"{label}, {row['site']} ({row['posts']})"
        lines.append(f"{name:<66} {today:>16} {goal:>9} {row['second']['cpu_seconds']:>20.2f} s")
    label, today, goal = ROWS["help_cpu"]
    lines.append(f"{label:<66} {today:>16} {goal:>9} {help_s:>20.2f} s")
    return lines


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'site':<12} {'posts':>6} {'first tick s':>13} {'second tick s':>14} {'ratio':>6}"]
    for row in results:
        lines.append(
            f"{row['site']:<12} {row['posts']:>6} {row['first']['seconds']:>13.2f} "
            f"{row['second']['seconds']:>14.2f} {row['ratio']:>6.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000, help="posts of the generated site")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated posts")
    parser.add_argument("--now", default=NOW, help="the ticks' clock (site time zone)")
    parser.add_argument("--skip-example", action="store_true", help="only the generated site")
    parser.add_argument("--skip-stock", action="store_true", help="no stock Pelican build")
    parser.add_argument(
        "--output", type=Path, default=REPO / "bench" / "results" / "tick.json", help="JSON file"
    )
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dialogpress-bench-") as scratch:
            if not args.skip_example:
                example = Path(scratch, "example")
                clone_example(example)
                count = len(list((example / "content" / "posts").glob("*.md")))
                results.append(bench_site("example", example, count, args.now))
            generated = Path(scratch, "generated")
            generated.mkdir()
            generate_site(generated, args.posts, args.seed)
            results.append(bench_site("generated", generated, args.posts, args.now))
            stock = (
                None
                if args.skip_stock
                else stock_full_seconds(Path(scratch), args.posts, args.seed)
            )
    except BenchError as exc:
        print(f"bench/tick.py: {exc}", file=sys.stderr)
        return 1
    report = {
        "benchmark": "tick",
        "now": args.now,
        "seed": args.seed,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "sites": results,
        "stock_full_seconds": stock,
        "help_cpu_seconds": (help_s := help_cpu()),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(table(results))
    print("\n".join(issue_rows(results, stock, help_s)))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
