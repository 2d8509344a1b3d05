"""Operations: the scheduler's tick and loop, the site lock, worker processes and the
process context (which takes the environment from the CLI and hands credentials on as
values; docs/architecture.md lists the few places that read ``os.environ`` themselves)."""
