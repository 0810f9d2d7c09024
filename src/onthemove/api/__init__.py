"""The HTTP API (FastAPI): aggregates for everyone, records and batches for the roles that may see them.

``create_app(store_location)`` builds the app; ``serve(...)`` runs it with uvicorn. Requests become
a ``Principal`` in ``auth.py`` only, and every decision goes through ``access.policy``.
"""

from onthemove.api.app import create_app

__all__ = ["create_app"]
