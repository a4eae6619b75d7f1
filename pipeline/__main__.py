"""`python -m pipeline` runs the `outreach` command."""

from pipeline.cli import main

main()
