"""Neighbourhood grant programmes: their eligibility rules, the programmes as data, the
checks that answer "does this place qualify", and the eligibility map layer.

Modules: :mod:`geo.grants.rules` (the pure rule language), :mod:`geo.grants.programmes`,
:mod:`geo.grants.checks`, :mod:`geo.grants.layer`.
"""
