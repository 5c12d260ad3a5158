"""tests/origins_app.py for uWSGI, whose ``--module`` names a WSGI callable, not a factory.

    CROSSORIGIN_REDIS_URL=... uwsgi --master --processes 4 --module tests.origins_uwsgi

uWSGI's default prefork imports this in the master, then forks the workers in C,
without Python's fork hooks (no ``--lazy-apps``): the case the test is for.
"""

from __future__ import annotations

from .origins_app import create_app

application = create_app()
