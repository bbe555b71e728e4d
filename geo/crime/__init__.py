"""Street-level crime (police.uk): crime types, summaries by area, year-on-year tests, packs."""
