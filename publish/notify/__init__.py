"""Telling people: mail (SMTP with TLS, or an outbox folder when no host is set)."""
