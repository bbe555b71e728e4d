"""The Platoons domain: boundaries, deprivation indices, area lookup (no web code)."""
