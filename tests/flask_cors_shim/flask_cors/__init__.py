"""A stand-in ``flask_cors`` that is flask-crossorigin: "change one import", literally.

tests/flask_cors_suite.py puts this directory first on ``sys.path`` of a
subprocess that runs flask-cors's own tests, so their ``from flask_cors import *``
gets our ``CORS`` and ``cross_origin``.
"""

from flask_crossorigin import CORS, cross_origin

__all__ = ["CORS", "cross_origin"]
