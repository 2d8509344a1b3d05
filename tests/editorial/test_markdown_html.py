"""cmark-gfm rendering frees what the C library made (editorial.markdown_html.cmark_html).

cmarkgfm's own ``markdown_to_html_with_extensions`` leaves each document's tree and its
HTML allocated: a build of thousands of posts grew by some 17 KiB a rendering. Our call
must give the same HTML, byte for byte, and must not grow the process.
"""

from __future__ import annotations

import gc

from cmarkgfm import cmark

from editorial.markdown_html import EXTENSIONS, OPTIONS, CmarkRenderer, cmark_html

TEXTS = [
    "# Störung behoben\n\nDie **Leitung** in der Elbstraße ist ~~gesperrt~~ frei.\n",
    "| Zähler | Stand |\n|---|---|\n| 12345678 | 4711 |\n\n- [x] geprüft\n- [ ] offen\n",
    "Mehr unter https://www.stadtwerke-elbtal.example/stoerungen und [hier]({filename}/a.md).\n",
    "```python\nprint('ä')\n```\n\n<div class=\"raw\">roh</div>\n\n---\n",
    "",
]


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_the_html_is_the_bindings_own() -> None:
    for text in TEXTS:
        expected = cmark.markdown_to_html_with_extensions(
            text, options=OPTIONS, extensions=EXTENSIONS
        )
        assert cmark_html(text) == expected


def test_rendering_many_posts_does_not_grow_the_process() -> None:
    body = "\n\n".join(
        f"## Abschnitt {n}\n\nDie Störung {n} ist *behoben*.\n\n| a | b |\n|---|---|\n| {n} | x |"
        for n in range(40)
    )
    renderer = CmarkRenderer({})
    for _ in range(50):  # warm up: the allocator's arenas, Python's caches
        renderer.convert(body)
    gc.collect()
    before = _rss_kib()
    for _ in range(3000):
        renderer.convert(body)
    gc.collect()
    grown = _rss_kib() - before
    # the binding's own call leaks some 180 KiB per rendering of this body (500 MiB here)
    assert grown < 8 * 1024, f"the process grew by {grown} KiB over 3,000 renderings"
