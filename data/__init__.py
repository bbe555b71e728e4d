"""Ingest: the source manifest, file readers, loaders, migrations and the demo extract."""
