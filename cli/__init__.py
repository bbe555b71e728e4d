"""The ``platoons`` command line: the one layer that drives ``app/``, ``data/`` and ``geo/``."""
