"""Tests of neighbourhood planning (geo/planning)."""
