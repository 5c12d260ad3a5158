// Runs fetch() from this frame's origin when the demo page asks (window.postMessage).
"use strict";

async function runRequest(url, init) {
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch (_) { /* not JSON: keep the text */ }
    // Only safelisted and exposed headers are visible here: that is the point.
    const headers = Object.fromEntries(response.headers.entries());
    return { outcome: "allowed", status: response.status, body, headers };
  } catch (error) {
    return { outcome: "blocked", error: String(error) };
  }
}

window.addEventListener("message", async (event) => {
  if (event.source !== window.parent || !event.data || event.data.type !== "run") return;
  const result = await runRequest(event.data.url, event.data.init);
  window.parent.postMessage({ type: "result", id: event.data.id, result }, "*");
});

if (window.parent !== window) window.parent.postMessage({ type: "ready" }, "*");
