"""Foresight: forecasts of monthly counts per admin area from their own history and from drivers, backtests
against baselines, early-warning triggers scored on history, and composite risk indices (INFORM).

Heavy libraries (statsforecast, mlforecast, LightGBM) are imported inside the functions that need them, so
that the rest of the platform starts fast.
"""
