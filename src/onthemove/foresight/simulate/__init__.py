"""Simulation of displacement on a location graph: Flee 3's rules on populations, vectorised.

``flee_io`` reads Flee case directories, ``graph`` holds the graph as arrays (from a case, the store or at random),
``rules`` the parameters, ``spawn`` where people appear, ``model`` the daily step, ``score`` Flee's validation
scores, ``calibrate`` the fit of global parameters on the first part of a period, ``scenario`` the changes a
scenario file makes, ``run`` a case end to end. docs/simulate.md describes the model and its results.
"""
