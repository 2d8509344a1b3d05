"""Posting: the channels (one module per network), the one delivery protocol, the
syndication run that decides what is due, and the publishing calendar."""
