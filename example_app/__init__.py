"""The flask-crossorigin demo: an API and a page on two origins.

* ``python -m example_app`` runs both (API on http://localhost:5000, page on
  http://localhost:5001) and the page shows, row by row, what the browser allowed.
* ``flask --app example_app run`` runs the API alone (``create_app`` below).
"""

from .api import create_app
from .frontend import create_frontend_app

__all__ = ["create_app", "create_frontend_app"]
