"""Operations: the scheduler's tick and loop, the site lock, worker processes and the
process context (the one place below the CLI that reads the environment)."""
