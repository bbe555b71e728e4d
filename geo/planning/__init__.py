"""Neighbourhood planning: areas, forums and plans through their statutory stages, and the levy."""
