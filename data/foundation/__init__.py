"""The foundation load (boundaries, indices, populations, lookups): read, checked, written.

:func:`data.loaders.load_all` runs the three steps in turn, writing in one transaction.
"""
