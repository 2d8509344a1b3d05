"""Production settings: absolute URLs and feeds on top of pelicanconf.py.

`dialogpress build --production` reads this file, as `pelican -s publishconf.py` would.
pelicanconf.py is loaded by its path beside this file, not by `import`, so that a
process building several sites never picks up another site's module.
"""

from pathlib import Path

from pelican.settings import get_settings_from_file

globals().update(get_settings_from_file(str(Path(__file__).with_name("pelicanconf.py"))))

SITEURL = "https://service.stadtwerke-elbtal.example"
RELATIVE_URLS = False

FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
TRANSLATION_FEED_ATOM = "feeds/all-{lang}.atom.xml"

DELETE_OUTPUT_DIRECTORY = True
