"""Site settings of the example client, Stadtwerke Elbtal, run by Agentur Kranich.

Pelican reads this file; so does dialogpress, which adds the client's newsroom settings
(guideline, approvers, channels) below the site's. Secrets never go here: credentials come
from the environment (see README, "Secrets").
"""

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
PLUGINS = ["dp_frontmatter"]

DEFAULT_PAGINATION = 5
SUMMARY_MAX_LENGTH = 40

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
