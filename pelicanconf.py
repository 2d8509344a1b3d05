"""Site settings of the example client, Stadtwerke Elbtal, run by Agentur Kranich.

Pelican reads this file; so does dialogpress, which adds the client's newsroom settings
(guideline, approvers, channels) below the site's. Secrets never go here: credentials come
from the environment (see README, "Secrets").
"""

import os

AUTHOR = "Stadtwerke Elbtal"
SITENAME = "Stadtwerke Elbtal – Service-Blog"
SITESUBTITLE = "Wir sind für Sie da: Strom, Wasser, Wärme – und Antworten."
SITEURL = ""

PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
OUTPUT_PATH = "output"

TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "de"
DEFAULT_DATE_FORMAT = "%d.%m.%Y"

THEME = "theme"
PLUGIN_PATHS = ["plugins"]
PLUGINS = [
    "dp_frontmatter", "dp_approval_gate", "dp_syndication_links", "dp_social_meta", "dp_comments",
    "dp_incremental",
]

DEFAULT_PAGINATION = 5
SUMMARY_MAX_LENGTH = 40

# The theme builds its own menu (start, topics, archive, then the pages); categories have
# their overview page instead of five menu entries that would crowd a phone's screen.
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False
MENUITEMS: list[tuple[str, str]] = []
LINKS = [
    ("stadtwerke-elbtal.example", "https://www.stadtwerke-elbtal.example/"),
    ("Störungsauskunft", "https://www.stadtwerke-elbtal.example/stoerungen"),
]
# Profiles on the networks, shown in the footer; empty until the client's handles are known.
SOCIAL: list[tuple[str, str]] = []

# The posts are written for cmark-gfm (docs/markdown.md); Python-Markdown is the default,
# for sites adopted from stock Pelican.
DP_FRONTMATTER = {"markdown": "cmark"}

# The preview card on X and Facebook for pages without their own image (README,
# "Social cards"). X account names have at most 15 characters.
DP_SOCIAL_META = {
    "default_image": "images/service-team.png",
    "default_image_alt": (
        "Illustration: fünf Menschen mit Headsets stehen nebeneinander, "
        "über ihnen zwei Sprechblasen mit Text."
    ),
    "twitter_site": "@sw_elbtal",
}

# Authors are the agency's editors, written as e-mail addresses so that approvals can
# tell author from approver; the site shows these names and never the address.
AUTHOR_NAMES = {
    "lena.berger@agentur-kranich.example": "Lena Berger",
    "jonas.meier@agentur-kranich.example": "Jonas Meier",
}
# author/lena-berger.html rather than a slug made of the whole address
AUTHOR_REGEX_SUBSTITUTIONS = [
    (r"@.*$", ""),
    (r"[._+]", "-"),
    (r"[^\w\s-]", ""),
    (r"(?u)\A\s*", ""),
    (r"(?u)\s*\Z", ""),
    (r"[-\s]+", "-"),
]

# Archives per year and month (the theme names the months itself, in the page's language).
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/index.html"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/index.html"

# Development builds need no feeds; publishconf.py turns them on.
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

# Relative URLs make a development build browsable from any folder.
RELATIVE_URLS = True

# --- dialogpress -----------------------------------------------------------------------
# Social snippets live in content/social/ (see README, "Writing a snippet").
SOCIAL_PATHS = ["social"]
# The client's social media primer, enforced by `dialogpress check`.
GUIDELINE = "guideline.yml"

# Who may approve (client approvers, the portal's key, the editors' commit keys) is not a
# setting: it is trust.yml, read from the protected branch only (docs/security.md).

# A snippet due longer ago than this is held as `late` for a person to release or skip,
# instead of going out stale after an outage. The example's editors post daily, so two
# days of catching up is still fine; the default is 6 hours.
MAX_LATENESS = "2d"

# The networks. DP_SANDBOX=1 (set by `make demo`) points both at `dialogpress sandbox` on
# this machine instead of X and Facebook; credentials always come from the environment.
CHANNELS = {"facebook": {"page_id": "100000000000001"}}
if os.environ.get("DP_SANDBOX"):
    CHANNELS = {
        "twitter": {"api_base": "http://127.0.0.1:8771"},
        "facebook": {"api_base": "http://127.0.0.1:8772/v26.0", "page_id": "100000000000001"},
    }
