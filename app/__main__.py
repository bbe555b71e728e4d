"""Allow ``python -m app`` as well as the ``platoons`` script."""

from app.cli import cli

cli()
