"""Platoons web layer: FastAPI routers, dependencies and the command line."""
