"""Side-by-side benchmark: bare Flask, flask-cors and flask_crossorigin.

Run it with ``python -m benchmarks`` (``--help`` lists the options). Every
contestant serves the same route through ``app.wsgi_app`` with prebuilt WSGI
environs; the contestants and scenarios are interleaved round by round and the
figures reported are medians in microseconds per request.

Modules, one job each:

- ``contestants``: how each library is installed on an app (extension or
  decorator) and how it spells an equivalent resource or origin pattern;
- ``scenarios``: the requests, the policies and the sanity check of each answer;
- ``measure``: the interleaved timing loop, start-up cost and memory;
- ``report``: the targets (issues 4, 10 and 23), the text table and the JSON document;
- ``__main__``: the command line.
"""
