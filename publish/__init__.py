"""Publishing side of dialogpress: store, channels, syndication, moderation, scheduler.

It builds on :mod:`editorial` (imports run ``publish → editorial``, never back) and is
the only part that talks to networks and the database.
"""
