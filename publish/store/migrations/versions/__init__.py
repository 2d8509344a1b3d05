"""Migration scripts, oldest first by revision chain (not by file name)."""
