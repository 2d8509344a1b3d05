"""Production settings: absolute URLs and feeds on top of pelicanconf.py.

`dialogpress build --production` reads this file, as `pelican -s publishconf.py` would.
pelicanconf.py is loaded by its path beside this file, not by `import`, so that a
process building several sites never picks up another site's module.
"""

from pathlib import Path

from pelican.settings import get_settings_from_file

globals().update(get_settings_from_file(str(Path(__file__).with_name("pelicanconf.py"))))

# A real top-level domain on purpose: X (twitter-text) only shortens links whose domain
# ends in a known TLD, so a link to a reserved name such as .example would count in full.
SITEURL = "https://service.stadtwerke-elbtal.de"
RELATIVE_URLS = False

FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
TRANSLATION_FEED_ATOM = "feeds/all-{lang}.atom.xml"

DELETE_OUTPUT_DIRECTORY = True
