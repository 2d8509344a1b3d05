"""`python -m publish.cli` runs the `dialogpress` command."""

from publish.cli import main

main()
