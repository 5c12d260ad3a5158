"""Every console message docs/troubleshooting.rst quotes is the one Chromium prints for the
cause the page gives: each case of troubleshooting_cases.py, run in headless Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from example_app.servers import PUBLIC_HOST, bind

from .troubleshooting_cases import (
    CASES,
    NOT_CORS,
    Case,
    create_trouble_app,
    create_trouble_app_without_extension,
    with_second_allow_origin,
)


@pytest.fixture(scope="module")
def trouble(origins: Any) -> Iterator[dict[str, str]]:
    """The trouble apps on free loopback ports: their origins by name."""
    main = create_trouble_app(origins.page)
    main.wsgi_app = with_second_allow_origin(main)  # type: ignore[method-assign]
    apps = {"main": main, "decorators": create_trouble_app_without_extension(origins.page)}
    servers, threads, found = [], [], {}
    for name, app in apps.items():
        server = bind(0)
        server.app = app
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        found[name] = f"http://{PUBLIC_HOST}:{server.server_port}"
    yield found
    for server, thread in zip(servers, threads):
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("case", CASES, ids=[case.cause for case in CASES])
def test_the_console_says_what_the_page_quotes_for_its_cause(
    case: Case, client: Any, origins: Any, trouble: dict[str, str]
) -> None:
    url = trouble[case.server] + case.path
    result = client.fetch_url(origins.page, url, **case.init)
    assert not result.allowed, result
    expected = case.message.format(origin=origins.page)
    prefix = (f"Access to fetch at '{url}' from origin '{origins.page}' has been blocked by "
              "CORS policy: ")
    assert result.cors_error == prefix + expected, result.console


def test_no_response_at_all_is_not_a_cors_error(client: Any, origins: Any) -> None:
    closed = bind(0)
    port = closed.server_port
    closed.server_close()  # nothing listens there any more
    result = client.fetch_url(origins.page, f"http://{PUBLIC_HOST}:{port}/x")
    assert result.error == NOT_CORS, result
    assert result.cors_error is None, result.console
