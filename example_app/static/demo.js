// The demo table: run each scenario with fetch() and compare what the browser did
// with what the API's CORS policy should allow.
"use strict";

const CONFIG = JSON.parse(document.getElementById("demo-config").textContent);
const API = CONFIG.apiOrigin;
const FROM_TENANT = { origin: CONFIG.tenantOrigin, label: CONFIG.tenantOrigin };
const FROM_UNTRUSTED = { origin: CONFIG.untrustedOrigin, label: CONFIG.untrustedOrigin };
const FROM_PARTNER = { origin: CONFIG.partnerOrigin, label: CONFIG.partnerOrigin };
const FROM_SANDBOX = { origin: CONFIG.pageOrigin, sandboxed: true, label: "a sandboxed iframe (Origin: null)" };
const FROM_API = { origin: API, label: `the API's own origin ${API}` };

// ---- running a request, here or inside an iframe on another origin ----------------------

async function fetchHere(url, init) {
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch (_) { /* not JSON */ }
    return { outcome: "allowed", status: response.status, body, headers: Object.fromEntries(response.headers.entries()) };
  } catch (error) {
    return { outcome: "blocked", error: String(error) };
  }
}

const frames = new Map();
const readyWaiters = [];
const pendingResults = new Map();
let lastMessageId = 0;

window.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "ready") {
    const index = readyWaiters.findIndex((w) => w.iframe.contentWindow === event.source);
    if (index >= 0) readyWaiters.splice(index, 1)[0].resolve();
  } else if (data.type === "result") {
    const waiter = pendingResults.get(data.id);
    if (waiter && waiter.source === event.source) {
      pendingResults.delete(data.id);
      waiter.resolve(data.result);
    }
  }
});

// Waiting without timers. Under headless Chromium's --virtual-time-budget, setTimeout
// and Date run on virtual time, which races ahead while a cross-origin frame loads
// (its work is in another process, so the page looks idle): a timer would fail a row
// that was merely slow, and the budget would run out with every later row pending.
// Virtual time stands still while the page has a fetch in flight, so the page waits
// in ticks of a real-time clock that the page server keeps (GET /clock?ms=N answers
// after N real milliseconds): the wait holds virtual time, and its limit is real.
const TICK_MS = 250;

function realTimeTick() {
  return fetch(`${location.origin}/clock?ms=${TICK_MS}`, { cache: "no-store" })
    .then((response) => response.ok, () => false);
}

async function withinRealTime(promise, seconds, failure) {
  let settled = false;
  const done = promise.then(() => { settled = true; }, () => { settled = true; });
  for (let waited = 0; waited < seconds * 1000 && !settled; waited += TICK_MS) {
    const ticked = await Promise.race([done.then(() => true), realTimeTick()]);
    if (!ticked && !settled) throw new Error(`${failure}, and the page server's clock does not answer`);
  }
  if (!settled) throw new Error(`${failure} within ${seconds} s`);
  return promise;
}

function openFrame(from) {
  const key = `${from.origin}|${Boolean(from.sandboxed)}`;
  if (!frames.has(key)) {
    const loaded = new Promise((resolve) => {
      const iframe = document.createElement("iframe");
      if (from.sandboxed) iframe.setAttribute("sandbox", "allow-scripts");
      iframe.src = `${from.origin}/frame`;
      iframe.className = "runner";
      iframe.hidden = true;
      readyWaiters.push({ iframe, resolve: () => resolve(iframe) });
      document.body.appendChild(iframe);
    });
    frames.set(key, withinRealTime(loaded, 10, `the frame at ${from.origin}/frame did not load`));
  }
  return frames.get(key);
}

function fetchFrom(from, url, init) {
  return askFrame(from, { type: "run", url, init });
}

// A real HTML form POST from a frame on that origin (its answer stays in the frame).
function formFrom(from, path, fields) {
  return askFrame(from, { type: "form", url: API + path, fields });
}

async function askFrame(from, message) {
  const iframe = await openFrame(from);
  const id = ++lastMessageId;
  const answered = new Promise((resolve) => {
    pendingResults.set(id, { source: iframe.contentWindow, resolve });
    iframe.contentWindow.postMessage({ ...message, id }, "*");
  });
  try {
    return await withinRealTime(answered, 15, `the frame at ${from.origin} did not answer`);
  } finally {
    pendingResults.delete(id);
  }
}

function call(path, init = {}, from = null) {
  const url = API + path;
  return from ? fetchFrom(from, url, init) : fetchHere(url, init);
}

// What the API's request log saw for a path (the page cannot see preflights itself).
async function serverSaw(path) {
  const result = await fetchHere(`${API}/api/debug/requests?path=${encodeURIComponent(path)}`, {});
  if (result.outcome !== "allowed") throw new Error("cannot read the API's request log");
  return result.body;
}

// What the API's report-only policy reported for a path, from one origin (a signal receiver
// in the API keeps them; its log shows the same at INFO).
async function reportedFor(path, origin) {
  const result = await fetchHere(`${API}/api/debug/report-only?path=${encodeURIComponent(path)}`, {});
  if (result.outcome !== "allowed") throw new Error("cannot read the API's report-only mismatches");
  return result.body.mismatches.filter((m) => m.origin === origin);
}

async function reportOnlyRow(from) {
  const origin = from ? from.origin : CONFIG.pageOrigin;
  const before = (await reportedFor("/catalog/items", origin)).length;
  const result = await call("/catalog/items", {}, from);
  result.reported = (await reportedFor("/catalog/items", origin)).slice(before);
  return result;
}

// A write to a /bank endpoint, judged by what the server saw: the status it answered,
// what Chromium sent (Sec-Fetch-Site, Origin), and whether the view ran. A form POST or a
// no-cors fetch never lets the page read the answer, so the server's word is the outcome:
// "blocked" when it refused the write before the view, "allowed" when the view ran.
async function writeRow(path, send) {
  const before = await serverSaw(path);
  const result = await send();
  const after = await serverSaw(path);
  const sent = after.sent.slice(before.sent.length);
  const ran = after.view_runs - before.view_runs;
  const last = sent[sent.length - 1] || {};
  return {
    ...result,
    outcome: sent.length === 1 && last.status === 403 && ran === 0 ? "blocked" : (ran === 1 ? "allowed" : "error"),
    error: result.error || `the server saw ${sent.length} request(s) and ran the view ${ran} time(s)`,
    status: last.status,
    sent,
    ran,
    body: result.body,
    text: result.body === undefined || result.status === 0 || (last.status === 403 && ran === 0)
      ? `HTTP ${last.status} from the server${ran === 0 ? ", before the view" : ""} (the page cannot read the answer)`
      : undefined,
  };
}

const sentNote = (r) => {
  const last = r.sent[r.sent.length - 1] || {};
  return `server answered ${last.status}, the view ran ${r.ran} time(s); Chromium sent Sec-Fetch-Site: ${last.fetch_site}, Origin: ${last.origin}`;
};

const sentFrom = (site, origin) => (r) => {
  const last = r.sent[r.sent.length - 1] || {};
  return last.fetch_site === site && last.origin === origin
    ? null : `expected Sec-Fetch-Site: ${site} and Origin: ${origin}, got ${last.fetch_site} and ${last.origin}`;
};

const textPost = (extra = {}) => ({
  method: "POST", credentials: "include", headers: { "Content-Type": "text/plain" }, body: "amount=1000", ...extra,
});
// The admin side of the partners table (from this page's origin, which /api/* trusts).
async function partnersAdmin(action) {
  const path = action === "add" ? "/api/admin/partners" : "/api/admin/partners/remove";
  const result = await fetchHere(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ origin: CONFIG.partnerOrigin }),
  });
  if (result.outcome !== "allowed" || result.status >= 400) {
    throw new Error(`could not ${action} the partner: ${JSON.stringify(result.body || result.error)}`);
  }
  return result.body;
}

async function partnerRow(action) {
  const admin = await partnersAdmin(action);
  const result = await call("/partners/catalog", {}, FROM_PARTNER);
  result.admin = admin;
  return result;
}

const nonce = () => Math.random().toString(36).slice(2, 10);
const jsonPut = (body, extraHeaders = {}) => ({
  method: "PUT",
  headers: { "Content-Type": "application/json", ...extraHeaders },
  body: JSON.stringify(body),
});

// ---- the scenarios ----------------------------------------------------------------------
// expect: what the policy should let the browser do. check(result): a problem, or null.

const SCENARIOS = [
  {
    title: "Public route: the CORS(public) one-liner",
    request: "GET /public/hello",
    expect: "allowed",
    why: "CORS(public) allows any origin: it echoes the page's origin in Access-Control-Allow-Origin (with Vary: Origin), so any page may read it.",
    run: () => call("/public/hello"),
    check: (r) => (r.body && r.body.message ? null : "no message in the body"),
  },
  {
    title: "Public route with cookies",
    request: "GET /public/hello, credentials: 'include'",
    expect: "blocked",
    why: "A credentialed response needs the exact origin and Allow-Credentials: true; an any-origin policy echoes the origin but never sends Allow-Credentials.",
    run: () => call("/public/hello", { credentials: "include" }),
  },
  {
    title: "Sign in: the API sets a session cookie",
    request: "POST /api/private/login, credentials: 'include'",
    expect: "allowed",
    why: "/api/private/* trusts this page's origin with supports_credentials=True, so the browser keeps the cookie.",
    run: () => call("/api/private/login", { method: "POST", credentials: "include" }),
    check: (r) => (r.body && r.body.signed_in ? null : "not signed in"),
  },
  {
    title: "Private route: cookie sent, response readable",
    request: "GET /api/private/profile, credentials: 'include'",
    expect: "allowed",
    why: "The answer names this exact origin and says Access-Control-Allow-Credentials: true.",
    run: () => call("/api/private/profile", { credentials: "include" }),
    check: (r) => (r.body && r.body.cookie_received ? null : "the API did not receive the cookie"),
    note: (r) => (r.body && r.body.cookie_received ? "the API received the session cookie" : ""),
  },
  {
    title: "Private route from an untrusted origin",
    request: "GET /api/private/profile, credentials: 'include'",
    from: FROM_UNTRUSTED,
    expect: "blocked",
    why: "This origin is not in the policy's origins: no Access-Control-Allow-Origin, the response stays hidden.",
    run: () => call("/api/private/profile", { credentials: "include" }, FROM_UNTRUSTED),
  },
  {
    title: "Tenant subdomain (wildcard origin)",
    request: "GET /tenants/dashboard",
    from: FROM_TENANT,
    expect: "allowed",
    why: `CORS(tenants, origins=["${CONFIG.tenantPattern}"]) on the blueprint trusts every subdomain.`,
    run: () => call("/tenants/dashboard", {}, FROM_TENANT),
    check: (r) => (r.body && r.body.tenant === "shop" ? null : "unexpected tenant"),
  },
  {
    title: "Tenant route from the parent domain",
    request: "GET /tenants/dashboard",
    expect: "blocked",
    why: `${CONFIG.tenantPattern} matches subdomains only, never ${CONFIG.pageOrigin} itself.`,
    run: () => call("/tenants/dashboard"),
  },
  {
    title: "Exposed response header",
    request: "GET /api/items, read X-Request-Id",
    expect: "allowed",
    why: "CORS_EXPOSE_HEADERS = ['X-Request-Id'] in app.config lets scripts read it.",
    run: () => call("/api/items"),
    check: (r) => (r.headers && r.headers["x-request-id"] ? null : "X-Request-Id is not readable"),
    note: (r) => (r.headers && r.headers["x-request-id"] ? `X-Request-Id: ${r.headers["x-request-id"]}` : ""),
  },
  {
    title: "Unexposed response header",
    request: "GET /api/items, read X-Internal-Trace",
    expect: "allowed",
    why: "The server sends X-Internal-Trace, but it is not exposed, so the browser hides it.",
    run: () => call("/api/items"),
    check: (r) => (r.headers && !("x-internal-trace" in r.headers) ? null : "X-Internal-Trace should be hidden"),
    note: (r) => (r.headers && !("x-internal-trace" in r.headers) ? "X-Internal-Trace: hidden from the page" : ""),
  },
  {
    title: "Preflighted JSON PUT with a custom header",
    request: "PUT /api/items/1, Content-Type: application/json, X-Demo-Token",
    expect: "allowed",
    why: "A JSON body and a custom header need a preflight; PUT is in methods and both headers are in allow_headers.",
    run: () => call("/api/items/1", jsonPut({ name: "teapot", price: 21 }, { "X-Demo-Token": "t0ken" })),
    check: (r) => (r.body && r.body.item && r.body.item.price === 21 && r.body.token === "t0ken" ? null : "the API did not get the body or header"),
  },
  {
    title: "Request header not allowed",
    request: "PUT /api/items/1 with X-Unlisted: 1",
    expect: "blocked",
    why: "X-Unlisted is not in allow_headers: the preflight is refused and the PUT is never sent.",
    run: () => call("/api/items/1", jsonPut({ name: "teapot" }, { "X-Unlisted": "1" })),
  },
  {
    title: "Method not allowed",
    request: "DELETE /api/items/…",
    expect: "blocked",
    why: "DELETE is not in the /api methods: the preflight fails and the browser never sends the DELETE.",
    run: async () => {
      const path = `/api/items/delete-${nonce()}`;
      const result = await call(path, { method: "DELETE" });
      result.server = await serverSaw(path);
      return result;
    },
    check: (r) => (r.server.requests === 0 ? null : "the DELETE reached the server"),
    note: (r) => `server received ${r.server.requests} DELETE request(s)`,
  },
  {
    title: "Preflight cache (max_age)",
    request: "PUT /api/items/… twice",
    expect: "allowed",
    why: "CORS_MAX_AGE = 600 lets the browser cache the preflight: the second PUT goes out without one.",
    run: async () => {
      const path = `/api/items/cache-${nonce()}`;
      await call(path, jsonPut({ name: "first" }));
      const result = await call(path, jsonPut({ name: "second" }));
      result.server = await serverSaw(path);
      return result;
    },
    check: (r) => (r.server.preflights === 1 && r.server.requests === 2 ? null : "expected 1 preflight for 2 PUTs"),
    note: (r) => `server saw ${r.server.requests} PUTs and ${r.server.preflights} preflight(s)`,
  },
  {
    title: "Simple request: no preflight",
    request: "POST /api/notes, Content-Type: text/plain",
    expect: "allowed",
    why: "A text/plain POST with no custom header is a 'simple' request: sent directly, no preflight.",
    run: async () => {
      const before = await serverSaw("/api/notes");
      const result = await call("/api/notes", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "hello" });
      const after = await serverSaw("/api/notes");
      result.preflights = after.preflights - before.preflights;
      return result;
    },
    check: (r) => (r.preflights === 0 && r.body && r.body.note === "hello" ? null : "unexpected preflight or body"),
    note: (r) => `${r.preflights} preflight(s)`,
  },
  {
    title: "404 is readable",
    request: "GET /api/no-such-thing",
    expect: "allowed",
    why: "Error responses carry CORS headers too, so the page sees the real 404 instead of a misleading CORS error.",
    run: () => call("/api/no-such-thing"),
    check: (r) => (r.status === 404 ? null : `status ${r.status}, expected 404`),
  },
  {
    title: "500 is readable",
    request: "GET /api/boom",
    expect: "allowed",
    why: "The view raises; the 500 error response still gets Access-Control-Allow-Origin.",
    run: () => call("/api/boom"),
    check: (r) => (r.status === 500 ? null : `status ${r.status}, expected 500`),
  },
  {
    title: "401 from the auth hook is readable",
    request: "GET /api/account (no token)",
    expect: "allowed",
    why: "The before_request auth hook refuses the request; the 401 is shared so the page can ask the user to sign in.",
    run: () => call("/api/account"),
    check: (r) => (r.status === 401 ? null : `status ${r.status}, expected 401`),
  },
  {
    title: "Authorization header: preflight passes the auth hook",
    request: "GET /api/account, Authorization: Bearer demo-token",
    expect: "allowed",
    why: "The preflight carries no token; the extension answers it (204) before the auth hook, then the real request brings the token.",
    run: () => call("/api/account", { headers: { Authorization: "Bearer demo-token" } }),
    check: (r) => (r.status === 200 && r.body.user === "demo" ? null : `status ${r.status}, expected 200`),
  },
  {
    title: "@cross_origin overrides the app policy",
    request: "GET /api/widget",
    from: FROM_UNTRUSTED,
    expect: "allowed",
    why: "@cross_origin(origins='*') on this one view replaces the /api policy, which would refuse this origin.",
    run: () => call("/api/widget", {}, FROM_UNTRUSTED),
    check: (r) => (r.status === 200 ? null : `status ${r.status}`),
  },
  {
    title: "…while the rest of /api refuses that origin",
    request: "GET /api/items",
    from: FROM_UNTRUSTED,
    expect: "blocked",
    why: "/api/* lists only the page's origin.",
    run: () => call("/api/items", {}, FROM_UNTRUSTED),
  },
  {
    title: "Origin: null is not trusted",
    request: "GET /api/items",
    from: FROM_SANDBOX,
    expect: "blocked",
    why: "Sandboxed iframes, data: and file: pages send Origin: null, which anyone can produce; the policy does not list it.",
    run: () => call("/api/items", {}, FROM_SANDBOX),
  },
  {
    title: "Report-only: a stricter policy is tried, not enforced",
    request: "GET /catalog/items",
    from: FROM_UNTRUSTED,
    expect: "allowed",
    why: `/catalog/* allows any origin and tries report_only={"origins": ["${CONFIG.pageOrigin}"]}: the page still reads the response, and the API reports (and logs) that the stricter policy would refuse this origin.`,
    run: () => reportOnlyRow(FROM_UNTRUSTED),
    check: (r) => (r.body && r.body.items && r.reported.length === 1 && r.reported[0].mismatch === "would-refuse"
      ? null : `expected one would-refuse report, got ${JSON.stringify(r.reported)}`),
    note: (r) => `reported: ${r.reported[0].mismatch} (${r.reported[0].code}); see the API's log`,
  },
  {
    title: "Report-only: the trusted page is not reported",
    request: "GET /catalog/items",
    expect: "allowed",
    why: "This page's origin is in the report-only origins: both policies grant it, so nothing is reported.",
    run: () => reportOnlyRow(null),
    check: (r) => (r.reported.length === 0 ? null : `unexpected report ${JSON.stringify(r.reported)}`),
    note: () => "nothing reported",
  },
  {
    title: "Cross-site form POST to a protected endpoint",
    request: "<form method=post action=/bank/transfer>",
    from: FROM_UNTRUSTED,
    expect: "blocked",
    why: "A form submission is not a CORS request: no preflight, and CORS would only hide the answer. csrf_protection=True on /bank/* refuses the write (403) before the view runs: Sec-Fetch-Site is cross-site and this origin is not trusted.",
    run: () => writeRow("/bank/transfer", () => formFrom(FROM_UNTRUSTED, "/bank/transfer", { to: "mallory", amount: "1000" })),
    check: sentFrom("cross-site", CONFIG.untrustedOrigin),
    note: sentNote,
  },
  {
    title: "Cross-site text/plain fetch POST (no-cors)",
    request: "POST /bank/transfer, mode: 'no-cors', Content-Type: text/plain",
    from: FROM_UNTRUSTED,
    expect: "blocked",
    why: "text/plain is a CORS-safelisted content type: sent without a preflight, with cookies. Refused with 403 before the view; the page gets an opaque answer either way.",
    run: () => writeRow("/bank/transfer", () => call("/bank/transfer", textPost({ mode: "no-cors" }), FROM_UNTRUSTED)),
    check: sentFrom("cross-site", CONFIG.untrustedOrigin),
    note: sentNote,
  },
  {
    title: "A tenant subdomain writes where it may not",
    request: "POST /bank/transfer, mode: 'no-cors', Content-Type: text/plain",
    from: FROM_TENANT,
    expect: "blocked",
    why: `${CONFIG.tenantPattern} may read /tenants/*, but /bank/* trusts only this page's origin, so its write is refused. (To Chromium every name under localhost is a site of its own: this one is cross-site.)`,
    run: () => writeRow("/bank/transfer", () => call("/bank/transfer", textPost({ mode: "no-cors" }), FROM_TENANT)),
    check: sentFrom("cross-site", CONFIG.tenantOrigin),
    note: sentNote,
  },
  {
    title: "The API's own page posts a form",
    request: "<form method=post action=/bank/transfer>",
    from: FROM_API,
    expect: "allowed",
    why: "Sec-Fetch-Site: same-origin always passes: the API's own pages write as before.",
    run: () => writeRow("/bank/transfer", () => formFrom(FROM_API, "/bank/transfer", { to: "alice", amount: "5" })),
    check: sentFrom("same-origin", API),
    note: sentNote,
  },
  {
    title: "The trusted page writes (credentialed fetch POST)",
    request: "POST /bank/transfer, credentials: 'include', Content-Type: text/plain",
    expect: "allowed",
    why: `This page's origin is in the /bank/* origins, so it is trusted to write as well as to read (supports_credentials=True).`,
    run: () => writeRow("/bank/transfer", () => call("/bank/transfer", textPost())),
    check: (r) => sentFrom("same-site", CONFIG.pageOrigin)(r) || (r.body && r.body.transferred ? null : "the page could not read the answer"),
    note: sentNote,
  },
  {
    title: "Report-only protection: the write goes through, and is reported",
    request: "POST /bank/feedback, mode: 'no-cors', Content-Type: text/plain",
    from: FROM_UNTRUSTED,
    expect: "allowed",
    why: `/bank/feedback has csrf_protection="report-only": the view runs as without protection, and the API reports (and logs at INFO) that protection would refuse this write.`,
    run: async () => {
      const before = (await reportedFor("/bank/feedback", CONFIG.untrustedOrigin)).length;
      const result = await writeRow("/bank/feedback", () => call("/bank/feedback", textPost({ mode: "no-cors" }), FROM_UNTRUSTED));
      result.reported = (await reportedFor("/bank/feedback", CONFIG.untrustedOrigin)).slice(before);
      return result;
    },
    check: (r) => (r.reported.length === 1 && r.reported[0].code === "write-untrusted" && r.status === 200
      ? null : `expected one write-untrusted report, got ${JSON.stringify(r.reported)}`),
    note: (r) => `${sentNote(r)}; reported: ${r.reported[0].mismatch} (${r.reported[0].code})`,
  },
  {
    title: "Origins from a database: a partner not in the table",
    request: "GET /partners/catalog",
    from: FROM_PARTNER,
    expect: "blocked",
    why: "/partners/* trusts the origins of a table, loaded by CachedOrigins (SQLite here, or a Redis set); this origin is not in it.",
    run: () => partnerRow("remove"),
  },
  {
    title: "An admin adds the partner at run time",
    request: "POST /api/admin/partners, then GET /partners/catalog",
    from: FROM_PARTNER,
    expect: "allowed",
    why: "Adding the row calls invalidate(): the API reloads the set now (with Redis, every process reloads within a second), no restart.",
    run: () => partnerRow("add"),
    check: (r) => (r.body && r.body.catalog ? null : "no catalog in the body"),
    note: (r) => `trusted from now on; answered by process ${r.body.worker}`,
  },
  {
    title: "…and removes it: refused at once",
    request: "POST /api/admin/partners/remove, then GET /partners/catalog",
    from: FROM_PARTNER,
    expect: "blocked",
    why: "Removing the row invalidates the cached set too: a removed partner is never trusted for longer than the reload takes.",
    run: () => partnerRow("remove"),
    check: (r) => (r.admin && r.admin.removed ? null : "the partner was not in the table"),
    note: () => "removed from the table and refused",
  },
];

// ---- the table --------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  for (const child of children) node.append(child);
  return node;
}

const badge = (outcome) => el("span", { className: `badge ${outcome}`, textContent: outcome });

function describe(result) {
  if (result.text) return result.text;
  if (result.outcome === "blocked") return `${result.error} (the browser hid the response)`;
  if (result.outcome !== "allowed") return String(result.error || `outcome: ${result.outcome}`);
  let body = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
  if (body === undefined) body = "(no body)";
  if (body.length > 110) body = body.slice(0, 107) + "…";
  return `HTTP ${result.status} ${body}`;
}

function renderRow(index, scenario) {
  const from = scenario.from ? ` from ${scenario.from.label}` : "";
  const row = el("tr", { className: "running", id: `scenario-${index + 1}` },
    el("td", { className: "num", textContent: String(index + 1) }),
    el("td", { className: "scenario" },
      el("span", { className: "title", textContent: scenario.title }),
      el("code", { textContent: scenario.request + from })),
    el("td", { className: "expected" }, badge(scenario.expect)),
    el("td", { className: "actual" }, badge("pending")),
    el("td", { className: "result", textContent: "…" }),
    el("td", { className: "why", textContent: scenario.why }));
  row.dataset.expected = scenario.expect;
  row.dataset.state = "running";
  return row;
}

function showResult(row, scenario, result) {
  let problem = result.outcome === scenario.expect ? null : `expected ${scenario.expect}`;
  if (!problem && scenario.check) {
    try {
      problem = scenario.check(result);
    } catch (error) {
      problem = `the check failed: ${error}`;
    }
  }
  const pass = problem === null;
  row.className = pass ? "pass" : "fail";
  row.dataset.state = pass ? "pass" : "fail";
  row.dataset.actual = result.outcome;
  row.querySelector(".actual").replaceChildren(badge(result.outcome));
  const cell = row.querySelector(".result");
  cell.replaceChildren(el("span", { className: "verdict", textContent: pass ? "✔ as expected. " : "✘ not as expected. " }),
    describe(result));
  let note = "";
  try {
    note = pass && scenario.note ? scenario.note(result) : "";
  } catch (error) {
    note = `(the note failed: ${error})`;
  }
  if (note) cell.append(el("br"), note);
  // A failed row always says why: the problem, and the error behind it if any.
  if (problem) cell.append(el("span", { className: "problem", textContent: problem }));
  return pass;
}

function showFailure(row, text) {
  row.className = "fail";
  row.dataset.state = "fail";
  row.dataset.actual = "error";
  row.querySelector(".actual").replaceChildren(badge("error"));
  row.querySelector(".result").replaceChildren(el("span", { className: "problem", textContent: text }));
}

async function runAll() {
  const tbody = document.querySelector("#scenarios tbody");
  const summary = document.getElementById("summary");
  document.body.dataset.state = "running";
  summary.className = "summary running";
  summary.textContent = "Running…";
  const rows = SCENARIOS.map((scenario, index) => renderRow(index, scenario));
  tbody.replaceChildren(...rows);
  let passed = 0;
  for (const [index, scenario] of SCENARIOS.entries()) {
    let result;
    try {
      result = await scenario.run();
    } catch (error) {
      result = { outcome: "error", error: `the demo itself failed: ${error}` };
    }
    let pass = false;
    try {
      pass = showResult(rows[index], scenario, result);
    } catch (error) {  // never leave a row half-drawn and the rest pending
      showFailure(rows[index], `the demo itself failed while showing the result: ${error}`);
    }
    if (pass) passed += 1;
  }
  const allPassed = passed === SCENARIOS.length;
  summary.className = `summary ${allPassed ? "pass" : "fail"}`;
  summary.textContent = allPassed
    ? `All ${SCENARIOS.length} scenarios behaved as expected.`
    : `${SCENARIOS.length - passed} of ${SCENARIOS.length} scenarios did NOT behave as expected.`;
  await showMetrics();
  document.body.dataset.state = "done";
}

// The API's counts per kind and decision (metrics="prometheus"; docs/metrics.rst).
async function showMetrics() {
  const section = document.getElementById("metrics");
  try {
    const result = await fetchHere(`${API}/api/debug/metrics`, {});
    if (result.outcome !== "allowed" || !result.body.metrics) {
      section.hidden = false;
      section.querySelector("p").textContent =
        "The API counts nothing: its metrics are off (pip install 'flask-crossorigin[prometheus]').";
      document.getElementById("metrics-table").hidden = true;
      return;
    }
    const counts = {};
    for (const { kind, decision, count } of result.body.counts) {
      counts[kind] = { ...(counts[kind] || {}), [decision]: count };
    }
    const rows = ["actual", "preflight", "write"].map((kind) => {
      const row = el("tr", {},
        el("td", { textContent: kind }),
        el("td", { className: "granted", textContent: String((counts[kind] || {}).granted || 0) }),
        el("td", { className: "refused", textContent: String((counts[kind] || {}).refused || 0) }));
      row.dataset.kind = kind;
      return row;
    });
    document.querySelector("#metrics-table tbody").replaceChildren(...rows);
    document.getElementById("metrics-link").href = `${API}/metrics`;
    section.hidden = false;
  } catch (error) {
    section.hidden = false;
    section.querySelector("p").textContent = `Could not read the API's metrics: ${error}`;
  }
}

document.getElementById("rerun").addEventListener("click", runAll);
runAll();
