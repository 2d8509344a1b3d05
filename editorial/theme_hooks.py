"""Whether the active theme shows what dialogpress's plugins add to pages.

The plugins put their output on the articles and pages as template variables; a theme
written for stock Pelican does not know them and silently shows nothing: no social
cards, no comments, no "shared on" links, no preview banner. ``dialogpress check``
warns for each hook the theme lacks while its plugin is enabled; docs/adopting.md has
a Jinja snippet for each, to paste into any theme.
"""

from __future__ import annotations

from pathlib import Path

from editorial.findings import Finding
from editorial.settings import Settings, settings_root

#: plugin, the variable a template must use, what readers miss without it
HOOKS: tuple[tuple[str, str, str], ...] = (
    ("dp_social_meta", "dp_social_meta", "social cards (Open Graph and X meta tags)"),
    ("dp_approval_gate", "dp_approval", "the preview banner on unapproved pieces"),
    ("dp_syndication_links", "dp_syndication", "the 'shared on' links"),
    ("dp_comments", "dp_comments", "the comments"),
)


def _plugin_names(settings: Settings) -> set[str]:
    names: set[str] = set()
    for plugin in settings.get("PLUGINS") or []:
        name = plugin if isinstance(plugin, str) else getattr(plugin, "__name__", "")
        names.add(str(name).rsplit(".", 1)[-1])
    return names


def theme_hook_findings(settings: Settings) -> list[Finding]:
    """A warning for each enabled plugin whose variable no template of the theme uses."""
    theme = settings.get("THEME")
    if not theme:
        return []
    folder = Path(str(theme))
    if not folder.is_absolute():
        folder = settings_root(settings) / folder
    templates = folder / "templates"
    if not templates.is_dir():
        return []
    text = "\n".join(
        path.read_text("utf-8", errors="replace") for path in sorted(templates.rglob("*.html"))
    )
    enabled = _plugin_names(settings)
    shown = (
        templates.relative_to(settings_root(settings)).as_posix()
        if templates.is_relative_to(settings_root(settings))
        else str(templates)
    )
    return [
        Finding(
            "theme.hook", "warning", shown,
            f"no template of the theme uses '{variable}', so {plugin} adds nothing readers "
            f"see ({what}); paste its snippet from docs/adopting.md (\"Theme hooks\")",
            line=1, column=1,
        )
        for plugin, variable, what in HOOKS
        if plugin in enabled and variable not in text
    ]
