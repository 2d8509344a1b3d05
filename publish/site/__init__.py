"""The site: the production build behind the approval gate, its stamp, the site data
the theme shows (comments, syndication links) and the atomic deploy."""
