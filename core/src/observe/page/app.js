// sluice status page: polls /api/status (1 s), /api/rejects (2 s) and
// /api/tap (long poll) and draws them. Records and reasons are untrusted:
// every value goes into the page as text (textContent), never as markup.
"use strict";

const HISTORY_SECONDS = 300;  // the chart's span
const RATE_WINDOW = 5;        // seconds of samples a shown rate averages over
const MAX_REJECTS = 12, TAP_ROWS = 10, CELL_CUT = 48, TAP_COLUMNS = 10;
const COLORS = ["#2563eb", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563"];

const samples = [];        // {now, steps: {name: {in, out}}}, oldest first
const rateHistory = [];    // {now, rates: {name: records/s}}
let steps = [];            // the latest /api/status steps
let lastReject = 0;
const rejectRows = [];     // newest first
const tapRows = new Map(); // step -> newest-first lines
let tapStep = "";
let tapAbort = null;
let tapStarted = false;    // one tap loop, started by the first status

const fmtInt = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
const fmt1 = new Intl.NumberFormat("en-US", {maximumFractionDigits: 1});
const fmtAxis = new Intl.NumberFormat("en-US", {maximumFractionDigits: 2});  // 0.25/s on a 1/s axis

// el("td", {class: "x", "data-step": name}, "text", child…)
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function count(n) { return n === null || n === undefined ? "—" : fmtInt.format(n); }
function rateText(r) {
  if (r === null || r === undefined) return "—";
  return (r < 10 ? fmt1.format(r) : fmtInt.format(r)) + " rec/s";
}
function bytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? fmt1.format(n) : fmtInt.format(n)) + " " + units[i];
}
function seconds(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return fmt1.format(s) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
}
function clock(unix) { return new Date(unix * 1000).toLocaleTimeString("en-GB", {hour12: false}); }
function cut(text, n) {
  text = String(text).replace(/[\u0000-\u001f\u007f]/g, " ");
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

// Records/s of one step: its records_out over the last RATE_WINDOW seconds of samples.
function rateOf(name) {
  const last = samples[samples.length - 1];
  if (!last || !last.steps[name]) return null;
  let first = null;
  for (const s of samples) {
    if (s.steps[name] && last.now - s.now <= RATE_WINDOW + 0.5 && s !== last) { first = s; break; }
  }
  if (!first || last.now <= first.now) return null;
  return Math.max(0, (last.steps[name].out - first.steps[name].out) / (last.now - first.now));
}

function addSample(status) {
  const sample = {now: status.now, steps: {}};
  for (const s of status.steps) sample.steps[s.name] = {out: s.records_out};
  const prev = samples[samples.length - 1];
  // A counter that went down: sluice restarted; the old samples no longer compare.
  if (prev && (status.now <= prev.now ||
               status.steps.some(s => prev.steps[s.name] && s.records_out < prev.steps[s.name].out))) {
    samples.length = 0;
    rateHistory.length = 0;
  }
  samples.push(sample);
  while (samples.length && status.now - samples[0].now > RATE_WINDOW + 2) samples.shift();
  const rates = {};
  for (const s of status.steps) rates[s.name] = rateOf(s.name);
  rateHistory.push({now: status.now, rates});
  while (rateHistory.length && status.now - rateHistory[0].now > HISTORY_SECONDS) rateHistory.shift();
}

function stateBadge(step) {
  const badge = el("span", {class: "state state-" + step.state, "data-state": step.state}, step.state);
  if (step.state === "up" || !step.reason) return badge;
  return el("div", {class: "state-line"}, badge, el("span", {class: "reason", "data-reason": ""}, step.reason));
}

function stat(label, value, hook) {
  return el("div", {class: "stat"}, el("span", {class: "label"}, label),
            el("span", {class: "value", ["data-" + hook]: ""}, value));
}

function card(step) {
  const rate = rateOf(step.name);
  const lag = step.kind === "sink"
    ? (step.lag_records === null ? "—" : step.lag_records === 0 ? "caught up"
       : count(step.lag_records) + " records · " + seconds(step.lag_seconds))
    : null;
  return el("div", {class: "card", "data-step": step.name, "data-kind": step.kind,
                    "data-rate": rate === null ? "" : rate, "data-total": step.records_out,
                    "data-rejected": step.rejected, "data-state": step.state},
    el("div", {class: "card-head"}, el("span", {class: "step-name"}, step.name),
       el("span", {class: "muted"}, step.kind + " · " + step.type)),
    stateBadge(step),
    el("div", {class: "rate", "data-rate-text": ""}, rateText(rate)),
    el("div", {class: "stats"},
       stat(step.kind === "source" ? "produced" : "consumed", count(step.records_in), "in"),
       stat(step.kind === "source" ? "acknowledged" : "stored", count(step.records_out), "out"),
       stat("rejected", count(step.rejected), "rejected-count"),
       stat("dropped", count(step.dropped), "dropped"),
       stat("bytes in/out", bytes(step.bytes_in) + " / " + bytes(step.bytes_out), "bytes"),
       lag === null ? null : stat("lag", lag, "lag")));
}

function transformChips(step) {
  const box = el("div", {class: "transforms"});
  for (const t of step.transforms || []) box.append(el("span", {class: "chip", title: t}, t.split("/").pop()));
  return box;
}

// One lane per topic: its sources -> topic -> its sinks (either side may be empty with --only).
function drawFlow() {
  const topics = [];
  for (const s of steps) if (!topics.includes(s.topic)) topics.push(s.topic);
  const flow = document.getElementById("flow");
  flow.replaceChildren();
  for (const topic of topics) {
    const sources = el("div", {class: "side"}), sinks = el("div", {class: "side"});
    for (const s of steps.filter(x => x.topic === topic)) {
      if (s.kind === "source") sources.append(el("div", {class: "hop"}, card(s), transformChips(s), el("span", {class: "arrow"}, "→")));
      else sinks.append(el("div", {class: "hop"}, el("span", {class: "arrow"}, "→"), transformChips(s), card(s)));
    }
    flow.append(el("div", {class: "lane"}, sources,
                   el("div", {class: "topic", "data-topic": topic}, el("span", {class: "muted"}, "topic"), topic), sinks));
  }
}

function drawChart() {
  const canvas = document.getElementById("chart");
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = 180;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const left = 70, right = w - 10, top = 10, bottom = h - 22;
  const now = rateHistory.length ? rateHistory[rateHistory.length - 1].now : 0;
  // The span grows with the history, from one minute up to HISTORY_SECONDS.
  const seen = rateHistory.length ? now - rateHistory[0].now : 0;
  const span = Math.min(HISTORY_SECONDS, Math.max(60, Math.ceil(seen / 60) * 60));
  document.getElementById("chart-title").textContent = "Records/s, last " + span / 60 + " min";
  let max = 1;
  for (const p of rateHistory) for (const r of Object.values(p.rates)) if (r !== null) max = Math.max(max, r);
  const mag = Math.pow(10, Math.floor(Math.log10(max)));
  max = [1, 2, 5, 10].map(m => m * mag).find(m => m >= max);
  g.font = "12px system-ui, sans-serif"; g.fillStyle = "#555"; g.strokeStyle = "#e5e7eb"; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = bottom - (bottom - top) * i / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
    g.textAlign = "right"; g.fillText(fmtAxis.format(max * i / 4) + "/s", left - 6, y + 4);
  }
  g.textAlign = "center";
  const tick = span <= 60 ? 10 : 60;
  for (let t = 0; t <= span; t += tick) {
    const label = t === 0 ? "now" : tick === 10 ? "−" + t + " s" : "−" + t / 60 + " min";
    g.fillText(label, right - (right - left) * t / span, h - 6);
  }
  const x = t => right - (right - left) * (now - t) / span;
  const y = r => bottom - (bottom - top) * r / max;
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  steps.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const swatch = el("span", {class: "swatch"});
    swatch.style.backgroundColor = color;  // CSSOM, allowed by the page's CSP
    legend.append(el("span", {class: "legend-item"}, swatch, s.name));
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    let started = false;
    for (const p of rateHistory) {
      const r = p.rates[s.name];
      if (r === null || r === undefined) { started = false; continue; }
      if (started) g.lineTo(x(p.now), y(r)); else g.moveTo(x(p.now), y(r));
      started = true;
    }
    g.stroke();
  });
}

function drawHeader(status, connected) {
  document.getElementById("pipeline").textContent = status ? status.pipeline : "";
  const ready = document.getElementById("ready");
  const state = !connected ? "disconnected" : status.ready ? "ready" : "not ready";
  ready.textContent = state;
  ready.className = "badge badge-" + state.replace(" ", "-");
  ready.dataset.ready = state;
  if (status) {
    document.getElementById("meta").textContent = "version " + status.version + " · up " +
      seconds(status.now - status.started_at) + " · updated " + clock(status.now);
  }
}

function fillStepChooser() {
  const select = document.getElementById("tap-step");
  const names = steps.map(s => s.name);
  if ([...select.options].map(o => o.value).join("\n") === names.join("\n")) return;
  select.replaceChildren(...steps.map(s => el("option", {value: s.name}, s.name + " (" + s.kind + ")")));
  if (!names.includes(tapStep)) {
    const firstSink = steps.find(s => s.kind === "sink");
    tapStep = firstSink ? firstSink.name : names[0] || "";
  }
  select.value = tapStep;
}

async function pollStatus() {
  let status = null;
  try {
    const response = await fetch("/api/status", {cache: "no-store"});
    if (response.ok) status = await response.json();
  } catch (e) { status = null; }
  if (status) {
    steps = status.steps;
    addSample(status);
    drawFlow();
    drawChart();
    fillStepChooser();
    if (!tapStarted) { tapStarted = true; pollTap(); }
  }
  drawHeader(status || null, status !== null);
  setTimeout(pollStatus, 1000);
}

function drawRejects() {
  const body = document.querySelector("#rejects tbody");
  if (!rejectRows.length) return;
  body.replaceChildren(...rejectRows.map(r => el("tr", {"data-reject": r.n},
    el("td", {}, clock(r.time)), el("td", {}, r.step),
    el("td", {}, r.partition < 0 ? r.topic + " (before Kafka)" : r.topic + "/" + r.partition + "@" + count(r.offset)),
    el("td", {class: "reason", "data-reason": ""}, r.reason),
    el("td", {class: "excerpt", title: cut(r.record_text || "", 1000)}, cut(r.record_text || "", 120)))));
}

async function pollRejects() {
  try {
    const response = await fetch("/api/rejects?after=" + lastReject, {cache: "no-store"});
    if (response.ok) {
      const data = await response.json();
      for (const r of data.rejects) rejectRows.unshift(r);
      rejectRows.length = Math.min(rejectRows.length, MAX_REJECTS);
      lastReject = Math.max(lastReject, data.last);
      drawRejects();
    }
  } catch (e) { /* shown by the status badge */ }
  setTimeout(pollRejects, 2000);
}

// A record's field as a short cell: nested values as cut JSON, long
// fractions to 4 places; the whole value in the cell's tooltip.
function cell(value, attrs) {
  let full = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  let shown = typeof value === "number" && !Number.isInteger(value) ? String(Math.round(value * 1e4) / 1e4) : full;
  return el("td", Object.assign({title: cut(full, 1000)}, attrs), cut(shown, CELL_CUT));
}

function drawTap() {
  const rows = tapRows.get(tapStep) || [];
  const table = document.getElementById("tap");
  const head = table.querySelector("thead"), body = table.querySelector("tbody");
  if (!rows.length) {
    head.replaceChildren();
    body.replaceChildren(el("tr", {class: "empty"}, el("td", {}, "waiting for records of " + tapStep + "…")));
    return;
  }
  const fields = [];
  for (const r of rows) {
    const record = r.record && typeof r.record === "object" && !Array.isArray(r.record) ? r.record : {"record": r.record ?? r.record_text};
    r.fields = record;
    for (const k of Object.keys(record)) if (!fields.includes(k) && fields.length < TAP_COLUMNS) fields.push(k);
  }
  head.replaceChildren(el("tr", {}, el("th", {}, "time"), el("th", {}, "partition@offset"), el("th", {}, "key"),
                          ...fields.map(f => el("th", {}, cut(f, 30)))));
  body.replaceChildren(...rows.map(r => el("tr", {"data-tap-row": r.offset},
    el("td", {}, clock(r.time)), el("td", {}, r.partition + "@" + count(r.offset)), cell(r.key),
    ...fields.map(f => cell(r.fields[f], {"data-field": f})))));
}

async function pollTap() {
  const step = tapStep;
  tapAbort = new AbortController();
  const started = Date.now();
  try {
    if (!step) throw new Error("no step");
    const response = await fetch("/api/tap?step=" + encodeURIComponent(step) + "&limit=10&wait=2",
                                 {cache: "no-store", signal: tapAbort.signal});
    if (response.ok) {
      const lines = (await response.text()).split("\n").filter(l => l.trim());
      const rows = tapRows.get(step) || [];
      for (const line of lines) {
        try { rows.unshift(JSON.parse(line)); } catch (e) { /* a cut line: skip it */ }
      }
      rows.length = Math.min(rows.length, TAP_ROWS);
      tapRows.set(step, rows);
      if (step === tapStep) drawTap();
    }
  } catch (e) { /* aborted, or the server is gone: the status poll restarts us */ }
  tapAbort = null;
  // At most one request a second, however fast records come.
  const pause = Math.max(0, 1000 - (Date.now() - started));
  setTimeout(pollTap, step === tapStep ? pause : 0);
}

document.getElementById("tap-step").addEventListener("change", e => {
  tapStep = e.target.value;
  if (tapAbort) tapAbort.abort();
  drawTap();
});
window.addEventListener("resize", drawChart);
pollStatus();
pollRejects();
