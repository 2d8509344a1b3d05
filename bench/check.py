"""How long the guideline check takes on a large site: ``check`` on thousands of pieces.

Every phrase rule matches against a normalised copy of each text (see
``editorial/phrases.py``), and every finding is placed at the line and column the editor
typed. Both must stay cheap: ``dialogpress check``, the review report and the scheduler
judge every piece. This script generates a site of German posts and snippets (a few with
forbidden words, so that findings are placed too) in a temp folder, reads it once and
times :func:`editorial.checks.check_site` on it, best of several runs.

Run it with ``make bench``; the figures go to ``bench/results/check.json``. To compare
with another version of the code, run it with ``PYTHONPATH`` pointing at that version's
checkout: the script measures whichever ``editorial`` package Python imports.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tick import LINKS, REPO, _sentence, post_text  # bench/ is the script's folder

# a few texts an agent should not have written, so that findings are made and placed
DODGES = [
    "Die Großstörung in der Altstadt ist behoben.",
    "Billige Tarife gibt es bei uns nicht.",
    "Wir entschuldigen uns für die Unannehmlichkeiten.",
    "Ein Blackout droht nicht.",
]


def snippet_text(rng: random.Random, number: int) -> tuple[str, str]:
    """One snippet's file name and text: an X thread or a Facebook post, some sponsored."""
    sponsored = number % 10 == 0
    lines = [
        "---",
        f"title: Snippet {number}",
        "channels: [twitter, facebook]" if number % 2 else "channels: [facebook]",
        f"publish_at: 2026-12-{1 + number % 28:02d} {8 + number % 10:02d}:00",
        "authors: [jonas.meier@agentur-kranich.example]",
    ]
    if sponsored:
        lines.append("sponsored: true")
    if number % 2:
        lines.append("thread:")
        lines += [f'  - "{_sentence(rng, 4, 10)}"' for _ in range(rng.randint(1, 3))]
    lines.append("---")
    body = _sentence(rng, 6, 14)
    if sponsored:
        body = "Anzeige: " + body
    if number % 7 == 0:
        body += " " + rng.choice(DODGES)
    body += f" Mehr: {rng.choice(LINKS)} #Service"
    return f"snippet-{number:05d}.md", "\n".join(lines) + "\n" + body + "\n"


def generate_site(folder: Path, pieces: int, seed: int, length: int = 1) -> None:
    """A copy of the example site's settings and guideline with ``pieces`` new pieces,
    each post's text repeated ``length`` times (to show that time grows linearly)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    for name in ("pelicanconf.py", "guideline.yml"):
        shutil.copy(REPO / name, folder / name)
    posts = folder / "content" / "posts"
    social = folder / "content" / "social"
    posts.mkdir(parents=True)
    social.mkdir(parents=True)
    (folder / "content" / "pages").mkdir()
    snippets = pieces // 5
    for number in range(pieces - snippets):
        name, text = post_text(rng, number)
        if number % 7 == 0:
            text = text.replace("\n\n## ", f"\n\n{rng.choice(DODGES)}\n\n## ", 1)
        if length > 1:
            head, body = text.split("\n---\n", 1)
            text = head + "\n---\n" + "\n".join([body] * length)
        (posts / name).write_text(text, encoding="utf-8")
    for number in range(snippets):
        name, text = snippet_text(rng, number)
        (social / name).write_text(text, encoding="utf-8")


def bench(folder: Path, runs: int) -> dict[str, Any]:
    """Read the site once, then time ``check_site`` ``runs`` times on fresh findings."""
    from editorial.checks import check_site
    from editorial.guideline import guideline_for
    from editorial.pieces import load_site
    from editorial.settings import load_settings

    settings = load_settings(folder / "pelicanconf.py")
    started, cpu = time.perf_counter(), time.process_time()
    site = load_site(settings)
    load_seconds = time.perf_counter() - started
    load_cpu = time.process_time() - cpu
    guideline = guideline_for(settings)
    schema = {id(piece): list(piece.findings) for piece in site.pieces}
    times: list[float] = []
    cpu_times: list[float] = []
    findings = 0
    for _ in range(runs):
        for piece in site.pieces:
            piece.findings[:] = schema[id(piece)]
        started, cpu = time.perf_counter(), time.process_time()
        check_site(site, guideline)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
        findings = sum(len(piece.findings) - len(schema[id(piece)]) for piece in site.pieces)
    return {
        "pieces": len(site.pieces),
        "characters": sum(len(p.body) for p in site.pieces),
        "load_seconds": round(load_seconds, 3),
        "load_cpu_seconds": round(load_cpu, 3),
        "check_seconds_best": round(min(times), 3),
        "check_cpu_seconds_best": round(min(cpu_times), 3),
        "check_seconds_median": round(statistics.median(times), 3),
        "runs": runs,
        "guideline_findings": findings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=5000, help="pieces to generate")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of check_site")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--length", type=int, default=1, help="each post's text repeated this many times"
    )
    parser.add_argument(
        "--scaling", type=int, default=0,
        help="also check this many pieces with 1× and 10× longer posts and report the ratio",
    )
    parser.add_argument(
        "--output", type=Path, default=REPO / "bench" / "results" / "check.json", help="JSON file"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dp-bench-check-") as temp:
        folder = Path(temp)
        generate_site(folder, args.pieces, args.seed, args.length)
        result = bench(folder, args.runs)
    if args.scaling:
        # issue 23: check must grow linearly with a post's length (it was quadratic)
        cpu: dict[int, float] = {}
        for length in (1, 10):
            with tempfile.TemporaryDirectory(prefix="dp-bench-check-") as temp:
                generate_site(Path(temp), args.scaling, args.seed, length)
                measured = bench(Path(temp), max(1, min(args.runs, 3)))
                cpu[length] = measured["load_cpu_seconds"] + measured["check_cpu_seconds_best"]
        result["scaling"] = {"pieces": args.scaling, "cpu_seconds_1x": round(cpu[1], 3),
                             "cpu_seconds_10x": round(cpu[10], 3),
                             "ratio": round(cpu[10] / max(cpu[1], 1e-9), 2)}
    import editorial

    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "editorial": str(Path(editorial.__file__).parent),
        "seed": args.seed,
        **result,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    per_piece = result["check_seconds_best"] / max(1, result["pieces"]) * 1e6
    print(
        f"check: {result['pieces']} pieces read in {result['load_seconds']:.2f} s; check_site "
        f"best {result['check_seconds_best']:.3f} s, median {result['check_seconds_median']:.3f} s "
        f"({per_piece:.0f} µs a piece, {result['guideline_findings']} findings); CPU: read "
        f"{result['load_cpu_seconds']:.2f} s, check_site {result['check_cpu_seconds_best']:.2f} s"
        f" → {args.output}"
    )
    if "scaling" in result:
        scaling = result["scaling"]
        print(f"check: {scaling['pieces']} pieces with 10× longer posts take {scaling['ratio']}× "
              f"the CPU ({scaling['cpu_seconds_1x']} s → {scaling['cpu_seconds_10x']} s; "
              "linear is about 10×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
