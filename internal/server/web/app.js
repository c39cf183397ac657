// The cutover dashboard: reads the v1 API, follows the server-sent events
// of the selected run, and sends operator actions with the bearer token
// kept in this tab's sessionStorage.
"use strict";

const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = "cutover-token";
const SVG = "http://www.w3.org/2000/svg";
let current = null; // the selected run's name
let detail = null; // its last GET /api/v1/runs/{name}
let source = null; // its EventSource
let refreshTimer = null;
let lastSplit = []; // its last split points

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function fmtTime(t) { return t ? new Date(t).toLocaleTimeString() : "—"; }

function fmtLeft(ms) {
  if (ms <= 0) return "0s";
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
}

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// Token handling.
function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
function showToken() { $("#token-state").textContent = token() ? "token set" : "no token"; }
$("#token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = $("#token").value.trim();
  if (v) sessionStorage.setItem(TOKEN_KEY, v);
  $("#token").value = "";
  showToken();
});
$("#token-clear").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showToken(); });

// Operator actions.
for (const b of document.querySelectorAll("button[data-action]")) {
  b.addEventListener("click", () => act(b.dataset.action));
}

async function act(action) {
  const out = $("#action-result");
  const headers = {};
  if (token()) headers["Authorization"] = "Bearer " + token();
  const r = await fetch("/api/v1/runs/" + encodeURIComponent(current) + "/" + action, { method: "POST", headers });
  let body = {};
  try { body = await r.json(); } catch (e) { /* empty body */ }
  if (r.status === 202) {
    out.className = "ok";
    out.textContent = action + " requested";
  } else {
    out.className = "error";
    out.textContent = action + " refused (" + r.status + "): " + (body.error || r.statusText) + (r.status === 401 ? " — enter the token above" : "");
  }
  refreshRun();
}

// The run list.
async function refreshRuns() {
  let data;
  try { data = await getJSON("/api/v1/runs"); } catch (e) { return; }
  const tbody = $("#runs tbody");
  tbody.replaceChildren();
  for (const r of data.runs) {
    const tr = el("tr", { "data-run": r.name },
      el("td", {}, r.name),
      el("td", {}, el("span", { class: "state " + r.state }, r.state)),
      el("td", {}, r.step + "/" + r.steps),
      el("td", {}, r.next_deadline ? fmtTime(r.next_deadline) : "—"));
    if (r.name === current) tr.classList.add("selected");
    tr.addEventListener("click", () => { location.hash = "#/runs/" + encodeURIComponent(r.name); });
    tbody.append(tr);
  }
  $("#runs-empty").hidden = data.runs.length > 0;
  if (!current && data.runs.length > 0 && !location.hash.startsWith("#/runs/")) {
    location.hash = "#/runs/" + encodeURIComponent(data.runs[0].name);
  }
}

// One run.
function select(name) {
  if (name === current) return;
  current = name;
  detail = null;
  if (source) source.close();
  $("#run").hidden = !name;
  $("#action-result").textContent = "";
  if (!name) return;
  source = new EventSource("/api/v1/events?run=" + encodeURIComponent(name));
  source.onmessage = scheduleRefresh;
  // Named events (event: <type>) do not reach onmessage.
  for (const t of EVENT_TYPES) source.addEventListener(t, scheduleRefresh);
  refreshRun();
  refreshRuns();
}

// The event types the dashboard redraws on; any other still arrives with
// the next refresh.
const EVENT_TYPES = ["run.started", "run.resumed", "run.paused", "run.promoted", "run.done", "run.rolled-back",
  "operator.requested", "request.ignored", "rollback.started", "change.intent", "change.applied", "change.reconciled",
  "change.insync", "change.failed", "change.conflict", "change.timeout", "wait.started", "wait.done", "gate.measured",
  "gate.missing", "gate.failed", "gate.inconclusive", "gate.error", "verify.passed", "verify.failed",
  "verify.unavailable", "verify.timeout", "aliases.updated", "associate.done", "watch.seen", "deployed",
  "drain.started", "drain.waiting"];

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refreshRun(); refreshRuns(); }, 200);
}

async function refreshRun() {
  if (!current) return;
  const name = current;
  let d, split;
  try {
    [d, split] = await Promise.all([
      getJSON("/api/v1/runs/" + encodeURIComponent(name)),
      getJSON("/api/v1/runs/" + encodeURIComponent(name) + "/split"),
    ]);
  } catch (e) { return; }
  if (name !== current) return;
  detail = d;
  const run = d.run;
  $("#run-name").textContent = run.name;
  const st = $("#run-state");
  st.textContent = run.state;
  st.className = "state " + run.state;
  const sum = d.summary || {};
  let subject = sum.subject || run.hostname;
  if (sum.bulk && sum.bulk.held) {
    const held = sum.bulk.held.reduce((n, g) => n + g.count, 0);
    subject += " (" + held + " held back: " + sum.bulk.held.map((g) => g.count + " " + g.reason).join("; ") + ")";
  }
  $("#run-host").textContent = (d.runbook.strategy || "") + " " + subject;
  $("#run-reason").textContent = run.reason || "";
  const ended = ["done", "rolled-back", "failed", "aborted"].includes(run.state);
  for (const b of document.querySelectorAll("button[data-action]")) b.disabled = ended;
  drawSteps(d);
  drawEvents(d.events);
  drawGates(d);
  lastSplit = split.points || [];
  drawChart(lastSplit, d);
  tick();
}

function drawSteps(d) {
  const ol = $("#steps");
  ol.replaceChildren();
  const run = d.run;
  d.runbook.steps.forEach((s, i) => {
    const li = el("li", { "data-step": String(i) }, s.title);
    if (run.state === "done" || i < run.step) li.className = "done";
    else if (i === run.step && run.state !== "rolling-back" && run.state !== "rolled-back") li.className = "current";
    ol.append(li);
  });
}

function drawEvents(events) {
  const ul = $("#events");
  ul.replaceChildren();
  for (const e of events.slice().reverse()) {
    ul.append(el("li", {}, el("time", {}, fmtTime(e.time)), el("span", { class: "type" }, e.type), e.message || ""));
  }
}

function drawGates(d) {
  const last = {};
  for (const e of d.events) {
    if (e.type === "gate.measured" && e.data && e.data.gate) last[e.data.gate] = e.data;
  }
  const tbody = $("#gates tbody");
  tbody.replaceChildren();
  for (const g of d.runbook.gates || []) {
    const m = last[g.name];
    const threshold = g.spec && (g.spec.threshold ?? g.spec.Threshold);
    const cmp = g.spec && (g.spec.comparison || g.spec.Comparison || "");
    const phase = m ? m.phase : "not measured";
    tbody.append(el("tr", { "data-gate": g.name },
      el("td", {}, g.name + " (" + g.kind + ")"),
      el("td", { class: phase === "Failed" || phase === "failed" ? "breach" : (m ? "pass" : "muted") }, String(phase)),
      el("td", {}, m ? String(m.value) : "—"),
      el("td", {}, threshold !== undefined ? (cmp ? cmp + " " : "") + threshold : "—")));
  }
}

// The chart: intended share of the new side as a step line from the run's
// start to now (or its end), the observed share where it is known.
function drawChart(points, d) {
  const c = $("#chart");
  c.replaceChildren();
  const W = 800, H = 240, L = 40, R = 10, T = 10, B = 24;
  const start = points.length ? Date.parse(points[0].at) : Date.parse(d.run.createdAt);
  const active = !["done", "rolled-back", "failed", "aborted"].includes(d.run.state);
  const end = Math.max(active ? Date.now() : Date.parse(d.run.updatedAt), start + 1000);
  const x = (t) => L + (W - L - R) * (t - start) / (end - start);
  const y = (v) => T + (H - T - B) * (1 - v / 100);
  for (const v of [0, 50, 100]) {
    c.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    const t = svg("text", { x: 4, y: y(v) + 4 }); t.textContent = v + "%"; c.append(t);
  }
  const t0 = svg("text", { x: L, y: H - 6 }); t0.textContent = fmtTime(start); c.append(t0);
  const t1 = svg("text", { x: W - R - 60, y: H - 6 }); t1.textContent = fmtTime(end); c.append(t1);
  let path = "", prev = null;
  for (const p of points) {
    const px = x(Date.parse(p.at));
    if (prev === null) path += "M" + px + "," + y(p.intended_new);
    else path += " L" + px + "," + y(prev) + " L" + px + "," + y(p.intended_new);
    prev = p.intended_new;
  }
  if (prev !== null) path += " L" + x(end) + "," + y(prev);
  c.append(svg("path", { class: "intended", d: path || "M0,0" }));
  let obs = "";
  for (const p of points) {
    if (p.observed_new === null || p.observed_new === undefined) continue;
    obs += (obs ? " L" : "M") + x(Date.parse(p.at)) + "," + y(p.observed_new);
    c.append(svg("circle", { cx: x(Date.parse(p.at)), cy: y(p.observed_new), r: 2.5, fill: "#e36209" }));
  }
  if (obs) c.append(svg("path", { class: "observed", d: obs }));
  c.setAttribute("data-points", String(points.length));
  c.setAttribute("data-intended", prev === null ? "" : String(prev));
}

// The countdown to the run's next deadline (TTL prep, observation, hold).
function tick() {
  if (!detail) return;
  drawChart(lastSplit, detail);
  const ds = Object.entries(detail.deadlines || {}).sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]));
  if (!ds.length || ["done", "rolled-back", "failed", "aborted"].includes(detail.run.state)) {
    $("#countdown").textContent = "—";
    $("#countdown-what").textContent = "no deadline";
    return;
  }
  const [what, until] = ds[0];
  $("#countdown").textContent = fmtLeft(Date.parse(until) - Date.now());
  const step = detail.runbook.steps[detail.run.step];
  $("#countdown-what").textContent = (step ? step.title : what) + " — until " + fmtTime(until);
}

function route() {
  const m = location.hash.match(/^#\/runs\/(.+)$/);
  select(m ? decodeURIComponent(m[1]) : null);
}

window.addEventListener("hashchange", route);
showToken();
route();
refreshRuns();
setInterval(refreshRuns, 5000);
setInterval(tick, 1000);
