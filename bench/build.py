"""How long a site build takes: stock Pelican against ours, full, after one edit, idle.

An agency rebuilds many client sites all day, so a build must take seconds, not a
minute. This script generates deterministic sites (German posts with headings, lists,
links, code blocks, tags and categories, from a fixed seed) of each size asked for, then
measures, interleaved in one run so that the machine's load hits all alike:

``stock``
    Pelican 4.12 as shipped: its own Markdown reader (Python-Markdown), no plugins, our
    theme, a fresh output folder;
``stock-edit``
    stock Pelican again after one post's body changed, with its content cache on (what a
    Pelican user can do today: it skips reading, renders and writes every page);
``full``
    our build (``dialogpress build``'s ``build_site``: our plugins, the cmark reader,
    parallel rendering) into a fresh output folder and a fresh cache;
``edit``
    ours after one post's body changed (incremental: only what changed is rendered);
``idle``
    ours with nothing changed.

Each measurement runs in its own Python process, timed from start to exit (wall), with
the CPU time and the peak resident memory of that process and its worker processes. The
stock and our sites hold the same posts; stock Pelican cannot read YAML front matter, so
its copy carries Pelican's ``Key: value`` metadata instead.

Run it with ``make bench`` (or ``python bench/build.py``); the table goes to stdout and
the figures to ``bench/results/build.json``. Timing belongs here, not to the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SIZES = (1000, 5000)
SEED = 2026
KINDS = ("stock", "stock-edit", "full", "edit", "idle")
AUTHORS = {
    "lena.berger@agentur-kranich.example": "Lena Berger",
    "jonas.meier@agentur-kranich.example": "Jonas Meier",
    "aylin.yildiz@agentur-kranich.example": "Aylin Yildiz",
}
CATEGORIES = ["Service", "Störungen", "Energie", "Wasser", "Unternehmen", "Mobilität"]
TAGS = [
    "Fernwärme", "Strom", "Wasserhärte", "Kundenservice", "Baustellen", "Zählerstand",
    "Abschlag", "Energiesparen", "Öffnungszeiten", "Netzausbau", "Glasfaser", "Tarife",
    "Photovoltaik", "E-Mobilität", "Trinkwasser", "Heizung", "Ausbildung", "Nachhaltigkeit",
]
WORDS = [
    "Kundinnen", "Kunden", "Zähler", "Straße", "Hausanschluss", "Leitung", "Versorgung",
    "Störung", "Rückmeldung", "Abrechnung", "Grundgebühr", "Wärmepumpe", "Trinkwasser",
    "Härtegrad", "Netzgebiet", "Umstellung", "Prüfung", "Bürgerbüro", "Öffnungszeiten",
    "Übergabe", "Gebäude", "Maßnahme", "Qualität", "Sicherheit", "Kläranlage", "Fernwärme",
    "Solaranlage", "Einspeisung", "Vertrag", "Kündigung", "Frist", "Ausweis", "Wohnung",
    "Nachbarschaft", "schnell", "zuverlässig", "geprüft", "gemeinsam", "pünktlich",
    "übersichtlich", "größer", "schöner", "nächste", "wöchentlich", "täglich", "heute",
    "morgen", "außerdem", "natürlich", "selbstverständlich", "dafür", "darüber", "für",
    "über", "während", "können", "müssen", "würden", "Überweisung", "Ladesäule",
]
LINKS = [
    "https://www.stadtwerke-elbtal.example/stoerungen",
    "https://www.stadtwerke-elbtal.example/kundenportal",
    "https://www.stadtwerke-elbtal.example/tarife",
]
CODE = [
    ("python",
     'zaehler = {"nummer": "12345678", "stand": 4711}\nprint(f"Stand: {zaehler[\'stand\']} kWh")'),
    ("bash", "curl -s https://www.stadtwerke-elbtal.example/api/stoerungen | jq '.[0]'"),
    ("json", '{"straße": "Elbufer 3", "störung": true, "seit": "2026-11-24T09:00"}'),
]
# The settings both copies share, on top of the example's pelicanconf.py: a production
# site with absolute URLs and feeds, as an agency deploys it.
SHARED_SETTINGS = """
# --- bench/build.py
SITEURL = "https://bench.stadtwerke-elbtal.de"
RELATIVE_URLS = False
DEFAULT_PAGINATION = 10
SUMMARY_MAX_LENGTH = 40
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
AUTHOR_NAMES = %r
APPROVERS = []
PORTAL_SIGNER = None
DP_APPROVAL_GATE = {"mode": "preview"}
""".replace("AUTHOR_NAMES = %r", f"AUTHOR_NAMES = {AUTHORS!r}")
STOCK_SETTINGS = """
# stock Pelican: its own Markdown reader, no plugins
PLUGINS = []
PLUGIN_PATHS = []
"""
SITE_FILES = ["pelicanconf.py", "guideline.yml"]
SITE_DIRS = ["theme", "plugins", "content/pages", "content/images"]


class BenchError(Exception):
    """A measurement that did not run as it should; the message says how."""


def _slug(text: str) -> str:
    folded = text.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


def _sentence(rng: random.Random, low: int = 6, high: int = 14) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return words[0][:1].upper() + words[0][1:] + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def post(rng: random.Random, number: int) -> tuple[str, dict[str, Any], str]:
    """One post: its file name, its metadata and its Markdown body."""
    title = f"{_sentence(rng, 3, 6)[:-1]} ({number})"
    slug = _slug(title)
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    year = 2020 + (number // 336) % 7
    meta = {
        "title": title,
        "date": f"{year}-{month:02d}-{day:02d} {8 + number % 10:02d}:{number % 60:02d}",
        "slug": slug,
        "lang": "de",
        "category": rng.choice(CATEGORIES),
        "tags": rng.sample(TAGS, k=rng.randint(1, 3)),
        "authors": [rng.choice(sorted(AUTHORS))],
    }
    if rng.random() < 0.5:
        meta["summary"] = _sentence(rng, 10, 18)
    body = [_paragraph(rng)]
    for _ in range(rng.randint(1, 3)):
        body.append(f"## {_sentence(rng, 2, 5)[:-1]}")
        body.append(_paragraph(rng))
        body.append("\n".join(f"- {_sentence(rng, 3, 7)}" for _ in range(rng.randint(2, 4))))
        link = rng.choice(LINKS)
        body.append(
            f"Mehr dazu: [„{rng.choice(WORDS)}“ im Überblick]({link}) und *{rng.choice(WORDS)}*."
        )
    if rng.random() < 0.4:
        language, code = rng.choice(CODE)
        body.append(f"```{language}\n{code}\n```")
        body.append(_paragraph(rng))
    return f"{slug}.md", meta, "\n\n".join(body) + "\n"


def yaml_text(meta: dict[str, Any], body: str) -> str:
    """The post as dialogpress editors write it: YAML front matter, e-mail authors."""
    front = "\n".join(
        f"{key}: {value if key == 'date' else json.dumps(value, ensure_ascii=False)}"
        for key, value in meta.items()
    )
    return f"---\n{front}\n---\n\n{body}"


def pelican_text(meta: dict[str, Any], body: str) -> str:
    """The same post as stock Pelican reads it: ``Key: value`` lines, author names."""
    lines = []
    for key, value in meta.items():
        if key == "tags":
            value = ", ".join(value)
        elif key == "authors":
            value = ", ".join(AUTHORS[a] for a in value)
        lines.append(f"{key.capitalize()}: {value}")
    return "\n".join(lines) + "\n\n" + body


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Bench", "-c", "user.email=bench@kranich.example", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def generate_sites(folder: Path, posts: int, seed: int) -> tuple[Path, Path]:
    """Our site (a git repository, YAML posts) and stock Pelican's copy of the same posts."""
    ours, stock = folder / "ours", folder / "stock"
    for site, extra in ((ours, SHARED_SETTINGS), (stock, SHARED_SETTINGS + STOCK_SETTINGS)):
        site.mkdir(parents=True)
        for name in SITE_FILES:
            shutil.copy2(REPO / name, site / name)
        for name in SITE_DIRS:
            shutil.copytree(REPO / name, site / name, ignore=shutil.ignore_patterns("__pycache__"))
        with (site / "pelicanconf.py").open("a", encoding="utf-8") as settings:
            settings.write(extra)
        (site / "content" / "posts").mkdir()
    rng = random.Random(seed)  # noqa: S311 -- reproducible text, not secrets
    for number in range(1, posts + 1):
        name, meta, body = post(rng, number)
        (ours / "content" / "posts" / name).write_text(yaml_text(meta, body), "utf-8")
        (stock / "content" / "posts" / name).write_text(pelican_text(meta, body), "utf-8")
    for page in (stock / "content" / "pages").glob("*.md"):
        page.write_text(_pelican_page(page.read_text("utf-8")), "utf-8")
    _git(ours, "init", "--quiet", "--initial-branch=main")
    _git(ours, "add", ".")
    _git(ours, "commit", "--quiet", "-m", f"{posts} generated posts")
    return ours, stock


def _pelican_page(text: str) -> str:
    """A page of the example (YAML front matter) in Pelican's own metadata format."""
    import yaml

    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    lines = [f"{key.capitalize()}: {value}" for key, value in meta.items()]
    return "\n".join(lines) + "\n\n" + body.lstrip("\n")


def edit_one_post(site: Path, round_: int) -> Path:
    """Change one post's body (always the same post, a new sentence each round)."""
    posts = sorted((site / "content" / "posts").glob("*.md"))
    path = posts[len(WORDS) % len(posts)]
    with path.open("a", encoding="utf-8") as file:
        file.write(f"\nNachtrag {round_}: Die Störung ist behoben.\n")
    return path


# --- one measurement, in its own process -------------------------------------------------


def run_stock(site: Path, output: Path, cache: bool) -> None:
    """Stock Pelican, as ``pelican -s pelicanconf.py`` runs it."""
    from pelican import Pelican
    from pelican.settings import read_settings

    override: dict[str, Any] = {"OUTPUT_PATH": str(output)}
    if cache:
        override |= {"CACHE_CONTENT": True, "LOAD_CONTENT_CACHE": True,
                     "CACHE_PATH": str(site / "cache")}
    Pelican(read_settings(str(site / "pelicanconf.py"), override=override)).run()


def run_ours(site: Path, output: Path) -> None:
    """Our build, as ``dialogpress build -s pelicanconf.py -o OUTPUT`` runs it."""
    from publish.site.build import build_site

    result = build_site(site / "pelicanconf.py", output=output)
    if not result.ok:
        raise BenchError(f"our build of {site} failed: {result.errors[:3]}")


def measure_self(kind: str, site: Path, output: Path) -> dict[str, Any]:
    """Run one build in this process and report its CPU time and peak memory."""
    if kind in ("stock", "stock-edit"):
        run_stock(site, output, cache=kind == "stock-edit")
    else:
        run_ours(site, output)
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_seconds": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
        # Linux reports kibibytes; a worker's peak counts pages it shares with us
        "peak_mib": own.ru_maxrss / 1024,
        "worker_peak_mib": workers.ru_maxrss / 1024,
    }


def measure(kind: str, site: Path, output: Path) -> dict[str, Any]:
    """One build in a fresh Python process, as a scheduler or a person starts it."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind, str(site),
               str(output)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DP_")}
    environ["PYTHONPATH"] = str(REPO)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=environ)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise BenchError(f"{kind} build of {site.name} failed (exit {done.returncode}):\n{tail}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"kind": kind, "wall_seconds": round(wall, 3),
            **{k: round(v, 3) for k, v in figures.items()}}


# --- the run -------------------------------------------------------------------------------


def bench_size(scratch: Path, posts: int, seed: int, repeats: int) -> dict[str, Any]:
    """Every kind of build on one generated size, interleaved, ``repeats`` times."""
    ours, stock = generate_sites(scratch / str(posts), posts, seed)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for round_ in range(1, repeats + 1):
        stock_out = scratch / f"{posts}-stock-out-{round_}"
        runs["stock"].append(measure("stock", stock, stock_out))
        shutil.rmtree(stock_out)
        # stock's rebuild: a build that fills the cache, one edit, the timed rebuild
        shutil.rmtree(stock / "cache", ignore_errors=True)
        measure("stock-edit", stock, stock_out)
        edit_one_post(stock, round_)
        runs["stock-edit"].append(measure("stock-edit", stock, stock_out))
        shutil.rmtree(stock_out)
        ours_out = scratch / f"{posts}-ours-out-{round_}"
        shutil.rmtree(ours / "cache", ignore_errors=True)
        runs["full"].append(measure("full", ours, ours_out))
        edit_one_post(ours, round_)
        runs["edit"].append(measure("edit", ours, ours_out))
        runs["idle"].append(measure("idle", ours, ours_out))
        shutil.rmtree(ours_out)
    return {"posts": posts, "runs": runs, "median": _medians(runs)}


def _medians(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    medians: dict[str, dict[str, float]] = {}
    for kind, rows in runs.items():
        medians[kind] = {
            key: round(statistics.median(row[key] for row in rows), 3)
            for key in ("wall_seconds", "cpu_seconds", "peak_mib", "worker_peak_mib")
        }
    stock = medians["stock"]
    for row in medians.values():
        row["wall_ratio"] = round(row["wall_seconds"] / stock["wall_seconds"], 3)
        row["cpu_ratio"] = round(row["cpu_seconds"] / stock["cpu_seconds"], 3)
        row["peak_ratio"] = round(
            max(row["peak_mib"], row["worker_peak_mib"]) / stock["peak_mib"], 3
        )
    return medians


GOALS = {"full": 0.35, "edit": 0.05, "idle": 0.02}
PEAK_GOAL = 1.5


def table(sizes: list[dict[str, Any]]) -> str:
    """The medians as a table, with the ratios to stock Pelican's full build."""
    head = (
        f"{'posts':>6} {'build':<11} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
        f"{'worker MiB':>10} {'wall ×':>7} {'cpu ×':>7} {'peak ×':>7} {'goal':>7}"
    )
    lines = [head]
    for size in sizes:
        for kind, row in size["median"].items():
            goal = f"≤{GOALS[kind]:.2f}" if kind in GOALS else ""
            lines.append(
                f"{size['posts']:>6} {kind:<11} {row['wall_seconds']:>8.2f} "
                f"{row['cpu_seconds']:>8.2f} {row['peak_mib']:>9.0f} "
                f"{row['worker_peak_mib']:>10.0f} "
                f"{row['wall_ratio']:>7.3f} {row['cpu_ratio']:>7.3f} {row['peak_ratio']:>7.2f} "
                f"{goal:>7}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--posts", type=int, nargs="+", default=list(SIZES), help="sizes of the generated sites"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the generated posts")
    parser.add_argument("--repeats", type=int, default=1, help="rounds per size (median)")
    parser.add_argument(
        "--output", type=Path, default=REPO / "bench" / "results" / "build.json", help="JSON file"
    )
    parser.add_argument("--measure", nargs=3, metavar=("KIND", "SITE", "OUTPUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, site, output = args.measure
        print(json.dumps(measure_self(kind, Path(site), Path(output))))
        return 0
    sizes = []
    try:
        with tempfile.TemporaryDirectory(prefix="dialogpress-bench-build-") as scratch:
            for posts in args.posts:
                sizes.append(bench_size(Path(scratch), posts, args.seed, args.repeats))
    except BenchError as exc:
        print(f"bench/build.py: {exc}", file=sys.stderr)
        return 1
    load = os.getloadavg()
    report = {
        "benchmark": "build",
        "seed": args.seed,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "load_average_after": [round(x, 2) for x in load],
        "goals": {**{k: f"wall ≤ {v}× stock" for k, v in GOALS.items()},
                  "peak": f"≤ {PEAK_GOAL}× stock"},
        "sizes": sizes,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(table(sizes))
    print(json.dumps({s["posts"]: s["median"] for s in sizes}, ensure_ascii=False))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
