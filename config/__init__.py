"""Settings, read from ``PLATOONS_*`` environment variables: the one place every layer reads."""
