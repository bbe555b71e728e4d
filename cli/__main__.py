"""Allow ``python -m cli`` as well as the ``platoons`` script."""

from cli.main import cli

cli()
