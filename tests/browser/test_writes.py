"""Cross-origin writes in Chromium: csrf_protection judged on what the browser really sends.

An API of its own, reached as ``http://api.bank.localhost:<port>``, protects ``/w`` and
reports on ``/ro/w``; it trusts the front end ``http://app.bank.localhost:<page port>``
(same site) and a partner ``http://partner.localhost:<page port>`` (another site). Pages
come from the demo's page server under other names: ``evil.localhost`` (another site),
``blog.bank.localhost`` (a sibling subdomain: same site, not listed), and from the API's
own origin. A counter in each view proves whether it ran; the request log records the
``Sec-Fetch-Site`` and ``Origin`` Chromium sent.

Names under ``localhost`` resolve to loopback and are potentially trustworthy, so Chromium
sends Fetch Metadata to them over plain HTTP (it sends none to ``http://*.test``). To
Chromium each name directly under ``localhost`` is a site of its own, and
``*.bank.localhost`` names share the site ``bank.localhost``."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, jsonify, request

from example_app.request_log import LoggedRequest, RequestLog
from example_app.servers import bind
from flask_crossorigin import CORS, report_only_mismatch, request_refused

from .conftest import FETCH_JS, FetchResult, Origins

FORM_JS = """
async ({url, fields}) => {
  await new Promise((resolve) => {
    const sink = document.createElement('iframe');
    sink.name = 'sink' + Math.random().toString(36).slice(2);
    document.body.append(sink);
    const form = document.createElement('form');
    form.method = 'post';
    form.action = url;
    form.target = sink.name;
    for (const [name, value] of Object.entries(fields)) {
      const input = document.createElement('input');
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    sink.addEventListener('load', () => resolve(), {once: true});
    form.submit();
  });
}
"""


@dataclass
class WriteApi:
    app: Flask
    origin: str
    log: RequestLog
    runs: Counter[str]
    refused: list[dict[str, Any]]
    reported: list[dict[str, Any]]
    page_port: int

    def at(self, host: str) -> str:
        return f"http://{host}:{self.page_port}"

    def sent(self, path: str) -> LoggedRequest:
        """The last request the API received for ``path``."""
        return self.log.entries(path)[-1]


@pytest.fixture(scope="module")
def write_api(origins: Origins) -> Iterator[WriteApi]:
    server = bind(0)
    port = server.server_port
    api_origin = f"http://api.bank.localhost:{port}"
    page_port = origins.page_port
    app = Flask(__name__)
    runs: Counter[str] = Counter()
    lock = threading.Lock()

    def write() -> Any:
        with lock:
            runs[request.path] += 1
        return jsonify(ran=True)

    app.add_url_rule("/w", "w", write, methods=["POST"])
    app.add_url_rule("/ro/w", "ro", write, methods=["POST"])
    app.add_url_rule("/frame", "frame", lambda: "<!doctype html><title>api</title><p>api</p>")
    CORS(app, origins=[f"http://app.bank.localhost:{page_port}", f"http://partner.localhost:{page_port}"],
         supports_credentials=True, csrf_protection=True,
         resources={"/*": {}, "/ro/*": {"csrf_protection": "report-only"}})
    refused: list[dict[str, Any]] = []
    reported: list[dict[str, Any]] = []
    request_refused.connect(lambda _app, **kw: refused.append(kw), app, weak=False)
    report_only_mismatch.connect(lambda _app, **kw: reported.append(kw), app, weak=False)
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]
    server.app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield WriteApi(app, api_origin, log, runs, refused, reported, page_port)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
    finally:
        context.close()


def open_page(tab: Any, origin: str) -> None:
    tab.goto(f"{origin}/frame")


def submit_form(tab: Any, url: str) -> None:
    tab.evaluate(FORM_JS, {"url": url, "fields": {"to": "mallory", "amount": "1000"}})


def fetch(tab: Any, url: str, **init: Any) -> FetchResult:
    return FetchResult(**tab.evaluate(FETCH_JS, {"url": url, "init": init}))


TEXT_POST = {"method": "POST", "credentials": "include", "body": "amount=1000",
             "headers": {"Content-Type": "text/plain"}}


def test_a_cross_site_form_post_is_refused_before_the_view(tab: Any, write_api: WriteApi) -> None:
    evil = write_api.at("evil.localhost")
    open_page(tab, evil)
    before = write_api.runs["/w"]
    submit_form(tab, f"{write_api.origin}/w")
    sent = write_api.sent("/w")
    assert (sent.method, sent.fetch_site, sent.origin) == ("POST", "cross-site", evil)
    assert sent.status == 403
    assert "access-control-allow-origin" not in sent.response_headers
    assert write_api.runs["/w"] == before  # the view did not run
    assert write_api.refused[-1]["code"] == "write-untrusted"


def test_a_cross_site_no_cors_text_post_is_refused(tab: Any, write_api: WriteApi) -> None:
    evil = write_api.at("evil.localhost")
    open_page(tab, evil)
    before = write_api.runs["/w"]
    result = fetch(tab, f"{write_api.origin}/w", mode="no-cors", **TEXT_POST)
    assert result.allowed and result.status == 0  # opaque: the page learns nothing either way
    sent = write_api.sent("/w")
    assert (sent.method, sent.fetch_site, sent.origin, sent.status) == (
        "POST", "cross-site", evil, 403)
    assert write_api.runs["/w"] == before


def test_a_same_site_sibling_that_is_not_listed_is_refused(
    tab: Any, write_api: WriteApi
) -> None:
    sibling = write_api.at("blog.bank.localhost")
    open_page(tab, sibling)
    before = write_api.runs["/w"]
    fetch(tab, f"{write_api.origin}/w", mode="no-cors", **TEXT_POST)
    submit_form(tab, f"{write_api.origin}/w")
    form_sent, fetch_sent = write_api.log.entries("/w")[-1], write_api.log.entries("/w")[-2]
    for sent in (form_sent, fetch_sent):
        # Same site: SameSite cookies would travel; the policy does not list it.
        assert (sent.fetch_site, sent.origin, sent.status) == ("same-site", sibling, 403)
    assert write_api.runs["/w"] == before


def test_same_origin_form_post_and_fetch_pass(tab: Any, write_api: WriteApi) -> None:
    open_page(tab, write_api.origin)
    before = write_api.runs["/w"]
    submit_form(tab, f"{write_api.origin}/w")
    sent = write_api.sent("/w")
    assert (sent.fetch_site, sent.origin, sent.status) == ("same-origin", write_api.origin, 200)
    result = fetch(tab, "/w", method="POST", headers={"Content-Type": "application/json"},
                   body="{}")
    assert result.allowed and result.status == 200 and result.body == {"ran": True}
    sent = write_api.sent("/w")
    assert (sent.fetch_site, sent.status) == ("same-origin", 200)
    assert write_api.runs["/w"] == before + 2


@pytest.mark.parametrize("host, site", [("partner.localhost", "cross-site"),
                                        ("app.bank.localhost", "same-site")])
def test_a_trusted_origin_writes_with_credentials(
    tab: Any, write_api: WriteApi, host: str, site: str
) -> None:
    trusted = write_api.at(host)
    open_page(tab, trusted)
    before = write_api.runs["/w"]
    result = fetch(tab, f"{write_api.origin}/w", method="POST", credentials="include",
                   headers={"Content-Type": "application/json"}, body='{"amount": 5}')
    assert result.allowed, result
    assert result.status == 200 and result.body == {"ran": True}
    preflight, sent = write_api.log.entries("/w")[-2:]
    assert preflight.is_preflight and preflight.status == 204  # a CORS matter, never refused
    assert (sent.method, sent.fetch_site, sent.origin, sent.status) == ("POST", site, trusted, 200)
    assert sent.response_headers["access-control-allow-origin"] == trusted
    assert write_api.runs["/w"] == before + 1


def test_report_only_lets_everything_through_and_reports_exactly_the_would_be_refusals(
    tab: Any, write_api: WriteApi
) -> None:
    url = f"{write_api.origin}/ro/w"
    before_runs, before_reports = write_api.runs["/ro/w"], len(write_api.reported)
    evil, sibling = write_api.at("evil.localhost"), write_api.at("blog.bank.localhost")
    partner = write_api.at("partner.localhost")
    expected = []
    for origin in (evil, sibling):
        open_page(tab, origin)
        submit_form(tab, url)
        fetch(tab, url, mode="no-cors", **TEXT_POST)
        expected += [origin, origin]
    open_page(tab, partner)
    assert fetch(tab, url, **TEXT_POST).allowed  # trusted: not reported
    open_page(tab, write_api.origin)
    submit_form(tab, url)  # same-origin: not reported
    sent = write_api.log.entries("/ro/w")[-6:]
    assert [entry.status for entry in sent] == [200] * 6
    assert [entry.fetch_site for entry in sent] == [
        "cross-site", "cross-site", "same-site", "same-site", "cross-site", "same-origin"]
    assert write_api.runs["/ro/w"] == before_runs + 6
    reports = write_api.reported[before_reports:]
    assert [r["origin"] for r in reports] == expected
    assert {(r["mismatch"], r["code"], r["report_only_policy"]) for r in reports} == {
        ("would-refuse", "write-untrusted", "resources['/ro/*'].csrf_protection")}
