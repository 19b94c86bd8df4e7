"""`python -m lienwatch` runs the command line."""

from lienwatch.cli import app

app()
