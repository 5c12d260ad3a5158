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

// Submits a real HTML form (method POST) into a hidden iframe: a navigation, not fetch(),
// so no CORS check applies and the page never sees the answer (the server log does).
function submitForm(url, fields) {
  return new Promise((resolve) => {
    const sink = document.createElement("iframe");
    sink.name = `sink-${Math.random().toString(36).slice(2)}`;
    sink.hidden = true;
    document.body.appendChild(sink);
    const form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.target = sink.name;
    for (const [name, value] of Object.entries(fields || {})) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    sink.addEventListener("load", () => resolve({ outcome: "submitted" }), { once: true });
    form.submit();
  });
}

window.addEventListener("message", async (event) => {
  if (event.source !== window.parent || !event.data) return;
  let result;
  if (event.data.type === "run") {
    result = await runRequest(event.data.url, event.data.init);
  } else if (event.data.type === "form") {
    result = await submitForm(event.data.url, event.data.fields);
  } else {
    return;
  }
  window.parent.postMessage({ type: "result", id: event.data.id, result }, "*");
});

if (window.parent !== window) window.parent.postMessage({ type: "ready" }, "*");
