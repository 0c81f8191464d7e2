// Starts a workflow on the gateway and shows its status live. Plain browser JavaScript, no build
// step: serve this directory with any static file server.
//
// The form can be filled from the page's fragment, so a link can start a workflow at once:
//   index.html#gateway=http://127.0.0.1:8080&workflowType=Sleep&input={"seconds":3}&autostart=1
// The fragment, unlike the query string, is never sent to the server that serves the page, which
// makes it the place for an apiKey too.
"use strict";

const form = document.getElementById("start");
const view = {
  execution: document.getElementById("execution"),
  status: document.getElementById("status"),
  statuses: document.getElementById("statuses"),
  outcome: document.getElementById("outcome"),
  problem: document.getElementById("problem"),
};
let watching = null; // the AbortController of the stream being read, if any

const params = new URLSearchParams(location.hash.slice(1));
for (const [name, value] of params) {
  const field = form.elements.namedItem(name);
  if (field) field.value = value;
}
form.addEventListener("submit", (e) => {
  e.preventDefault();
  run();
});
if (params.get("autostart") === "1") run();

// run starts the workflow the form describes and watches it until it closes.
async function run() {
  watching?.abort();
  watching = new AbortController();
  const signal = watching.signal;
  reset();
  const gateway = form.elements.gateway.value.replace(/\/+$/, "");
  const apiKey = form.elements.apiKey.value;
  try {
    const request = { workflowType: form.elements.workflowType.value };
    if (form.elements.workflowId.value) request.workflowId = form.elements.workflowId.value;
    const input = form.elements.input.value.trim();
    if (input) request.input = parseInput(input);

    setPhase("starting");
    const started = await fetch(gateway + "/workflows", {
      method: "POST",
      headers: credentials(apiKey, { "Content-Type": "application/json" }),
      body: JSON.stringify(request),
      signal,
    });
    const execution = await answer(started);
    view.execution.textContent = `${execution.workflowId} (run ${execution.runId})`;
    setPhase("watching");
    await watch(gateway, apiKey, execution, signal);
  } catch (err) {
    if (signal.aborted) return; // a newer run took over
    view.problem.textContent = err.message;
    setPhase("error");
  }
}

// watch follows the run on the event stream until it has closed. The gateway ends a stream
// when it shuts down; as an EventSource would, this then reconnects and carries on, since the
// stream starts again with the current state.
async function watch(gateway, apiKey, execution, signal) {
  const url = `${gateway}/workflows/${encodeURIComponent(execution.workflowId)}/events?runId=${encodeURIComponent(execution.runId)}`;
  let last = execution;
  while (last.status === "RUNNING") {
    // fetch, not EventSource: an EventSource cannot send the X-API-Key header.
    const response = await fetch(url, {
      headers: credentials(apiKey, { Accept: "text/event-stream" }),
      cache: "no-store",
      signal,
    });
    if (!response.ok) await answer(response); // throws the problem
    for await (const event of serverSentEvents(response.body)) {
      if (event.type === "execution") {
        last = JSON.parse(event.data);
        show(last);
      } else if (event.type === "error") {
        throw new Error(JSON.parse(event.data).title);
      }
    }
    if (last.status === "RUNNING") await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  setPhase("closed");
}

// serverSentEvents parses a text/event-stream body into {type, data} events: a blank line ends an
// event, `event:` names it, `data:` lines make its data, and lines starting with `:` (the
// gateway's heartbeats) are comments.
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let type = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r?\n/);
    buffer = lines.pop(); // the last line may not be complete yet
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) yield { type, data: data.join("\n") };
        type = "message";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = text;
      else if (field === "data") data.push(text);
    }
  }
}

// answer is the JSON body of a successful response; an error response, always
// application/problem+json, becomes an Error that says what went wrong.
async function answer(response) {
  const body = await response.json();
  if (response.ok) return body;
  const fields = (body.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  throw new Error([`${body.status} ${body.title}.`, body.detail, ...fields].filter(Boolean).join(" "));
}

function credentials(apiKey, headers) {
  return apiKey ? { ...headers, "X-API-Key": apiKey } : headers;
}

function parseInput(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`The input is not JSON: ${err.message}`);
  }
}

function show(execution) {
  view.status.textContent = execution.status;
  const item = document.createElement("li");
  item.dataset.status = execution.status;
  item.textContent = `${new Date().toLocaleTimeString()} ${execution.status}`;
  view.statuses.append(item);
  if (execution.status === "COMPLETED") {
    view.outcome.textContent = JSON.stringify(execution.result ?? null, null, 2);
  } else if (execution.failure) {
    view.outcome.textContent = JSON.stringify(execution.failure, null, 2);
  }
}

function reset() {
  view.execution.textContent = "";
  view.status.textContent = "none yet";
  view.statuses.replaceChildren();
  view.outcome.textContent = "";
  view.problem.textContent = "";
}

// setPhase marks the page idle, starting, watching, closed or error, for the style sheet.
function setPhase(phase) {
  document.documentElement.dataset.phase = phase;
}
