// Ferry's status page: polls the worker's own REST API and /metrics; no dependencies.
"use strict";

const POLL_MS = 2000;
const HISTORY_MS = 5 * 60 * 1000;
// Setting names that hold secrets: shown as [hidden], as Connect shows PASSWORD values.
const SECRET_WORDS = /(^|[._-])(password|passwd|pwd|secret|token|credentials?|apikey|api[._-]key|private[._-]key|sasl[._-]jaas[._-]config)([._-]|$)/i;
const SECRET_SUFFIX = /[._-]key$/i;

const history = new Map(); // connector -> { events: [[t, v]], lag: [[t, v]] }
const opened = new Map(); // "connector/section" -> open? (kept across refreshes)

// A <details> whose open state survives the page's refreshes.
function section(key, title, openByDefault, ...content) {
  const open = opened.has(key) ? opened.get(key) : openByDefault;
  const d = el("details", open ? { open: "" } : {}, el("summary", {}, title), ...content);
  d.addEventListener("toggle", () => opened.set(key, d.open));
  return d;
}
let lastTotals = null; // { t, totals: Map(connector -> events total) }

function isSecret(key) {
  return SECRET_WORDS.test(key) || (SECRET_SUFFIX.test(key) && !/converter|ignore|columns|field/i.test(key));
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(method, path) {
  const resp = await fetch(path, { method, credentials: "same-origin", headers: { Accept: "application/json" } });
  const text = await resp.text();
  if (!resp.ok) {
    let msg = text;
    try { msg = JSON.parse(text).message || text; } catch (_) { /* plain text */ }
    throw new Error(`${method} ${path}: ${resp.status} ${msg}`);
  }
  return text ? JSON.parse(text) : null;
}

// Prometheus text: [{name, labels, value}].
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = re.exec(m[3] || "")) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, "$1");
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

async function fetchMetrics() {
  try {
    const resp = await fetch("/metrics", { credentials: "same-origin" });
    if (!resp.ok) return null;
    return parseMetrics(await resp.text());
  } catch (_) {
    return null;
  }
}

// Records through each connector (all tasks: the worker's rate, and the total for
// workers that publish no rate) and its lag, from the metrics.
function summarize(metrics) {
  const totals = new Map();
  const rates = new Map();
  const lag = new Map();
  for (const s of metrics) {
    const conn = s.labels.connector || s.labels.name;
    if (!conn || !Number.isFinite(s.value)) continue;
    if (/(source_record_write|sink_record_read)_total$/.test(s.name)) {
      totals.set(conn, (totals.get(conn) || 0) + s.value);
    } else if (/(source_record_write|sink_record_read)_rate$/.test(s.name)) {
      rates.set(conn, (rates.get(conn) || 0) + s.value);
    } else if (/millisecondsbehindsource$/.test(s.name) || /_lag(_ms)?$/.test(s.name) || /records_lag(_max)?$/.test(s.name)) {
      lag.set(conn, Math.max(lag.get(conn) || 0, Math.max(0, s.value)));
    }
  }
  return { totals, rates, lag };
}

function record(now, metrics) {
  if (!metrics) return;
  const { totals, rates, lag } = summarize(metrics);
  for (const [conn, rate] of rates) {
    const h = history.get(conn) || { events: [], lag: [] };
    h.events.push([now, Math.max(0, rate)]);
    history.set(conn, h);
  }
  for (const [conn, total] of totals) {
    if (rates.has(conn)) continue;
    const h = history.get(conn) || { events: [], lag: [] };
    if (lastTotals && lastTotals.totals.has(conn)) {
      const dt = (now - lastTotals.t) / 1000;
      const delta = total - lastTotals.totals.get(conn);
      if (dt > 0 && delta >= 0) h.events.push([now, delta / dt]);
    }
    history.set(conn, h);
  }
  for (const [conn, v] of lag) {
    const h = history.get(conn) || { events: [], lag: [] };
    h.lag.push([now, v]);
    history.set(conn, h);
  }
  for (const h of history.values()) {
    h.events = h.events.filter(([t]) => now - t <= HISTORY_MS);
    h.lag = h.lag.filter(([t]) => now - t <= HISTORY_MS);
  }
  lastTotals = { t: now, totals };
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (v >= 100) return v.toFixed(0);
  return v.toFixed(1);
}

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function chart(title, unit, points, colour, note) {
  const last = points.length ? points[points.length - 1][1] : null;
  const head = el("div", { class: "t" }, el("span", {}, title),
    el("b", {}, last === null ? "–" : `${fmt(last)} ${unit}`));
  const box = el("div", { class: "chart", "data-chart": title }, head);
  if (points.length < 2) {
    box.append(el("div", { class: "none" }, note));
    return box;
  }
  const W = 360, H = 64, now = points[points.length - 1][0], t0 = points[0][0];
  const peak = Math.max(...points.map(p => p[1]));
  const max = Math.max(1, peak) * 1.25;
  const x = t => ((t - t0) / Math.max(1, now - t0)) * W;
  const y = v => H - 2 - (v / max) * (H - 6);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" });
  for (const f of [0.25, 0.5, 0.75]) {
    svg.append(svgEl("line", { x1: 0, x2: W, y1: H * f, y2: H * f, stroke: "#eef1f5", "stroke-width": 1 }));
  }
  const line = points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const area = `${line} L${W},${H} L0,${H} Z`;
  svg.append(svgEl("path", { d: area, fill: colour, "fill-opacity": 0.12, stroke: "none" }));
  svg.append(svgEl("path", { d: line, fill: "none", stroke: colour, "stroke-width": 2, "vector-effect": "non-scaling-stroke" }));
  box.append(svg);
  const span = Math.round((now - t0) / 1000);
  const ago = span >= 120 ? `${Math.round(span / 60)} min` : `${span} s`;
  box.append(el("div", { class: "axis" }, el("span", {}, `last ${ago}`), el("span", {}, `peak ${fmt(peak)} ${unit}`)));
  return box;
}

function state(s) {
  return el("span", { class: `state ${s}` }, s);
}

async function act(name, what) {
  const n = encodeURIComponent(name);
  const calls = {
    pause: ["PUT", `/connectors/${n}/pause`],
    resume: ["PUT", `/connectors/${n}/resume`],
    restart: ["POST", `/connectors/${n}/restart?includeTasks=true&onlyFailed=false`],
    stop: ["PUT", `/connectors/${n}/stop`],
  };
  try {
    await api(...calls[what]);
    showError(null);
  } catch (e) {
    showError(e.message);
  }
  refresh();
}

function showError(msg) {
  const e = document.getElementById("error");
  e.textContent = msg || "";
  e.classList.toggle("hidden", !msg);
}

function connectorCard(name, entry, metricsUp) {
  const status = entry.status || {};
  const info = entry.info || {};
  const cstate = (status.connector && status.connector.state) || "UNASSIGNED";
  const type = status.type || info.type || "";
  const config = info.config || {};
  const btn = (label, what, cls) => el("button", { class: cls || "", onclick: () => act(name, what) }, label);
  const head = el("div", { class: "card-head" },
    el("h2", {}, name), type ? el("span", { class: "type" }, type) : null, state(cstate),
    el("span", { class: "class" }, config["connector.class"] || ""),
    el("span", { class: "spacer" }),
    btn("Pause", "pause"), btn("Resume", "resume"), btn("Restart", "restart"), btn("Stop", "stop", "danger"));

  const tasks = el("table", {}, el("tr", {}, el("th", {}, "task"), el("th", {}, "state"), el("th", {}, "worker")));
  for (const t of status.tasks || []) {
    tasks.append(el("tr", { "data-task": `${name}-${t.id}` }, el("td", {}, `#${t.id}`), el("td", {}, state(t.state)), el("td", {}, t.worker_id || "")));
  }
  if (!(status.tasks || []).length) tasks.append(el("tr", {}, el("td", { colspan: 3, class: "masked" }, "no tasks")));
  const left = el("div", {},
    el("div", { class: "class" }, `connector on ${(status.connector && status.connector.worker_id) || "–"}`), tasks);
  const traces = [];
  if (status.connector && status.connector.trace) traces.push(["connector", status.connector.trace]);
  for (const t of status.tasks || []) if (t.trace) traces.push([`task ${t.id}`, t.trace]);
  for (const [who, trace] of traces) {
    left.append(section(`${name}/trace/${who}`, `trace of ${who}`, true, el("pre", { class: "trace" }, trace)));
  }
  const cfg = el("table", {});
  for (const key of Object.keys(config).sort()) {
    const secret = isSecret(key);
    cfg.append(el("tr", {}, el("td", { class: "k" }, key),
      el("td", { class: secret ? "v masked" : "v" }, secret ? "[hidden]" : config[key])));
  }
  left.append(section(`${name}/config`, `configuration (${Object.keys(config).length} settings)`, true, cfg));

  const h = history.get(name) || { events: [], lag: [] };
  const none = metricsUp ? "collecting…" : "no metrics from /metrics";
  const charts = el("div", { class: "charts" },
    chart("events/s", "/s", h.events, "#2563c9", none),
    chart("lag", "ms", h.lag, "#c98a00", metricsUp && !h.lag.length ? "this connector reports no lag" : none));
  return el("article", { class: "card", "data-connector": name, "data-state": cstate }, head,
    el("div", { class: "card-body" }, left, charts));
}

let metricsUp = false;
async function refresh() {
  const now = Date.now();
  let connectors;
  try {
    const [list, metrics] = await Promise.all([api("GET", "/connectors?expand=status&expand=info"), fetchMetrics()]);
    connectors = list;
    metricsUp = metrics !== null;
    record(now, metrics);
    showError(null);
  } catch (e) {
    showError(e.message);
    return;
  }
  const names = Object.keys(connectors).sort();
  const root = document.getElementById("connectors");
  root.replaceChildren(...names.map(n => connectorCard(n, connectors[n], metricsUp)));
  document.getElementById("empty").classList.toggle("hidden", names.length > 0);
  const count = s => names.filter(n => ((connectors[n].status || {}).connector || {}).state === s).length;
  const tasks = names.flatMap(n => (connectors[n].status || {}).tasks || []);
  const stat = (n, l) => el("div", { class: "stat" }, el("div", { class: "n" }, n), el("div", { class: "l" }, l));
  document.getElementById("summary").replaceChildren(
    stat(names.length, "connectors"), stat(count("RUNNING"), "running"),
    stat(tasks.length, "tasks"), stat(tasks.filter(t => t.state === "FAILED").length + count("FAILED"), "failed"));
}

async function worker() {
  try {
    const info = await api("GET", "/");
    document.getElementById("worker").textContent =
      `Kafka Connect ${info.version} API · ${info.commit || ""}${info.kafka_cluster_id ? " · cluster " + info.kafka_cluster_id : ""}`;
  } catch (e) {
    document.getElementById("worker").textContent = "worker not reachable";
  }
}

worker();
refresh();
setInterval(refresh, POLL_MS);
