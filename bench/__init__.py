"""Benchmarks for Platoons, run by hand (``python -m bench.<name>``), never by the tests."""
