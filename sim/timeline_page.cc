// The timeline's HTML page: CSS and the script that draws the model's lanes
// as SVG when the page loads (see timeline.h). Self-contained: nothing is
// fetched.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "sim/timeline.h"

namespace chronik::sim {
namespace {

constexpr char kHead[] = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>)PAGE";

constexpr char kStyle[] = R"PAGE(</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px; color: #222; }
h1 { font-size: 16px; margin: 0 0 6px; font-family: monospace; }
#verdict.pass { color: #17702a; font-weight: bold; }
#verdict.fail { color: #b00020; font-weight: bold; }
#anomaly { color: #b00020; margin: 4px 0; font-family: monospace; }
#controls { margin: 6px 0; }
#legend span { display: inline-block; margin-right: 10px; }
#legend i { display: inline-block; width: 12px; height: 10px;
  margin-right: 3px; vertical-align: middle; }
#chart { overflow-x: auto; border: 1px solid #ccc; }
svg text { font: 11px monospace; }
.lanelabel { font-weight: bold; }
.rowlabel { fill: #555; }
.grid { stroke: #eee; }
pre { font-size: 12px; }
</style></head><body>
<h1 id="title"></h1>
<div id="verdict"></div>
<div id="anomalytext"></div>
<div id="controls">zoom: <input id="zoom" type="range" min="5" max="400"
 step="1"> <span id="zoomtext"></span> px per simulated second</div>
<div id="legend"></div>
<div id="chart"></div>
<details><summary>fault plan</summary><pre id="plan"></pre></details>
<script id="model" type="application/json">)PAGE";

constexpr char kScript[] = R"PAGE(</script>
<script>
"use strict";
const M = JSON.parse(document.getElementById("model").textContent);
const NS = "http://www.w3.org/2000/svg";
const LABEL = 150, ROW = 14, GAP = 6, TOP = 34;
const ROLE = { L: ["#1f4e9c", "leader"], F: ["#9cc3f0", "follower"],
  C: ["#f2b233", "candidate / no leader"] };
const PROCESS = { up: "#4caf50", down: "#d32f2f", stopped: "#9e9e9e" };
const FAULT = { pause: "#ff9800", isolate: "#7b1fa2",
  partition_broker: "#8e24aa", client_partition: "#ab47bc",
  clock_jump: "#00897b", clock_drift: "#26a69a", port_taken: "#795548",
  lose_responses: "#5d4037", crash: "#d32f2f", power_loss: "#b71c1c",
  stop: "#757575", crash_in_fsync: "#e53935" };
function faultColor(kind) { return FAULT[kind] || "#c2185b"; }
function apiColor(api) {
  let h = 0;
  for (const c of api.replace("!", "")) h = (h * 31 + c.charCodeAt(0)) % 360;
  return "hsl(" + h + ",55%,62%)";
}
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function tip(e, text) { el("title", {}, e, text); return e; }
function secs(us) { return (us / 1e6).toFixed(6) + "s"; }
let pxs = 40;
const X = (us) => LABEL + (us / 1e6) * pxs;

function rect(g, t0, t1, y, h, fill, text, extra) {
  const w = Math.max(1, X(t1) - X(t0));
  const r = el("rect", Object.assign({ x: X(t0), y: y, width: w, height: h,
    fill: fill }, extra || {}), g);
  return tip(r, text);
}
function mark(g, t, y, kind, text) {
  const x = X(t);
  const colors = { crash: "#b00020", stop: "#555", start: "#17702a",
    start_failed: "#e65100", ack: "#2e7d32", retry: "#c62828",
    produce_error: "#e65100", heal: "#17702a", failure: "#b00020" };
  const fill = colors[kind] || "#6a1b9a";
  let e;
  if (kind === "crash") {
    e = el("path", { d: "M" + (x - 4) + "," + y + "l8,8m0,-8l-8,8",
      stroke: fill, "stroke-width": 2 }, g);
  } else if (kind === "start") {
    e = el("path", { d: "M" + x + "," + y + "l4,8h-8z", fill: fill }, g);
  } else if (kind === "stop") {
    e = el("rect", { x: x - 4, y: y, width: 8, height: 8, fill: fill }, g);
  } else if (kind === "ack" || kind === "retry" || kind === "produce_error") {
    e = el("line", { x1: x, x2: x, y1: y - 2, y2: y + 10, stroke: fill,
      "stroke-width": 1 }, g);
  } else {
    e = el("path", { d: "M" + x + "," + (y - 1) + "l5,5l-5,5l-5,-5z",
      fill: fill }, g);
  }
  e.setAttribute("data-mark", kind);
  return tip(e, secs(t) + " " + kind + ": " + text);
}
function laneGroup(svg, name, label, y, h, width) {
  const g = el("g", { class: "lane" }, svg);
  g.setAttribute("data-lane", name);
  el("rect", { x: 0, y: y - 2, width: width, height: h + 4,
    fill: "#fafafa", stroke: "#ddd" }, g);
  el("text", { x: 4, y: y + 11, class: "lanelabel" }, g, label);
  return g;
}
function groupName(id) { return id === 0 ? "metadata" : "group " + id; }
)PAGE";

constexpr char kScript2[] = R"PAGE(
function render() {
  const chart = document.getElementById("chart");
  chart.textContent = "";
  const width = X(M.end_us) + 40;
  let height = TOP + ROW * 2 + GAP;
  for (const b of M.brokers) height += ROW * (1 + b.groups.length) + GAP;
  height += (ROW + GAP) * M.clients.length + 10;
  const svg = el("svg", { width: width, height: height }, chart);
  let step = 1;
  while (step * pxs < 60) step *= step === 1 ? 2 : step === 2 ? 2.5 : 2;
  for (let s = 0; s * 1e6 <= M.end_us; s += step) {
    el("line", { x1: X(s * 1e6), x2: X(s * 1e6), y1: TOP - 4, y2: height,
      class: "grid" }, svg);
    el("text", { x: X(s * 1e6) + 2, y: TOP - 8 }, svg, s + "s");
  }
  let y = TOP;
  const world = laneGroup(svg, "world", "faults", y, ROW * 2, width);
  for (const f of M.world.faults) {
    rect(world, f[0], f[1], y, ROW, faultColor(f[2]), f[3]);
    if (X(f[1]) - X(f[0]) > 50) {
      el("text", { x: X(f[0]) + 2, y: y + 10, fill: "#fff" }, world,
        f[2]).style.pointerEvents = "none";
    }
  }
  for (const m of M.world.marks) mark(world, m[0], y + ROW + 2, m[1], m[2]);
  y += ROW * 2 + GAP;
  for (const b of M.brokers) {
    const h = ROW * (1 + b.groups.length);
    const g = laneGroup(svg, b.name, "broker " + b.name, y, h, width);
    for (const p of b.process) {
      rect(g, p[0], p[1], y + 4, 5, PROCESS[p[2]] || "#000",
        secs(p[0]) + ".." + secs(p[1]) + " " + p[2]);
    }
    for (const f of b.faults) {
      rect(g, f[0], f[1], y, ROW - 1, faultColor(f[2]), f[3],
        { "fill-opacity": 0.45 });
    }
    for (const m of b.marks) mark(g, m[0], y + 2, m[1], m[2]);
    let row = y + ROW;
    for (const grp of b.groups) {
      el("text", { x: 14, y: row + 10, class: "rowlabel" }, g,
        groupName(grp.group));
      for (const r of grp.roles) {
        const role = ROLE[r[2]] || ["#000", r[2]];
        rect(g, r[0], r[1], row + 1, ROW - 3, role[0],
          groupName(grp.group) + " " + role[1] + " term " + r[4] +
          (r[5] ? " leader n" + r[5] : "") + " from " + secs(r[0]) +
          " to " + secs(r[1]));
      }
      row += ROW;
    }
    y += h + GAP;
  }
  for (const c of M.clients) {
    const g = laneGroup(svg, c.name, "client " + c.name + " " + c.kind, y,
      ROW, width);
    for (const r of c.requests) {
      const failed = r[2].endsWith("!");
      rect(g, r[0], r[1], y + 1, ROW - 4, apiColor(r[2]),
        secs(r[0]) + " " + r[2] + " " + r[3] + " (" +
        ((r[1] - r[0]) / 1000).toFixed(1) + " ms)",
        failed ? { stroke: "#c62828", "stroke-width": 1 } : {});
    }
    for (const m of c.marks) mark(g, m[0], y + 1, m[1], m[2]);
    y += ROW + GAP;
  }
  if (M.failure_us >= 0) {
    const a = el("g", { class: "anomaly" }, svg);
    a.setAttribute("data-anomaly", M.failure);
    el("line", { x1: X(M.failure_us), x2: X(M.failure_us), y1: TOP - 20,
      y2: height, stroke: "#b00020", "stroke-width": 2 }, a);
    const right = X(M.failure_us) > width - 500;
    tip(el("text", { x: X(M.failure_us) + (right ? -4 : 4), y: TOP - 20,
      fill: "#b00020", "text-anchor": right ? "end" : "start" }, a,
      "first anomaly: " + M.failure.slice(0, 80)), M.failure);
  }
}

function legend() {
  const l = document.getElementById("legend");
  const add = (color, text) => {
    const s = document.createElement("span");
    const i = document.createElement("i");
    i.style.background = color;
    s.appendChild(i);
    s.appendChild(document.createTextNode(text));
    l.appendChild(s);
  };
  for (const k in ROLE) add(ROLE[k][0], ROLE[k][1]);
  for (const k in PROCESS) add(PROCESS[k], "process " + k);
  for (const k of ["pause", "isolate", "partition_broker", "clock_jump"]) {
    add(FAULT[k], k);
  }
  const marks = document.createElement("div");
  marks.textContent = "marks: \u2715 crash, \u25b2 start, \u25a0 clean " +
    "stop; client lanes: a bar per request from send to answer (red " +
    "outline: timed out or disconnected), green tick: produce acknowledged, " +
    "red tick: retry, diamond: group or world event (hover for details)";
  l.appendChild(marks);
}

document.getElementById("title").textContent = M.title;
const verdict = document.getElementById("verdict");
verdict.textContent = M.passed ? "PASS" : "FAIL: " + M.failure;
verdict.className = M.passed ? "pass" : "fail";
if (M.failure_us >= 0) {
  const a = document.getElementById("anomalytext");
  a.id = "anomaly";
  a.setAttribute("data-anomaly-at", secs(M.failure_us));
  a.textContent = "first anomaly at " + secs(M.failure_us) + ": " + M.failure;
}
document.getElementById("plan").textContent = M.plan.join("\n");
pxs = Math.max(5, Math.min(400, Math.floor(1400 / Math.max(1, M.end_us / 1e6))));
const zoom = document.getElementById("zoom");
zoom.value = pxs;
document.getElementById("zoomtext").textContent = pxs;
zoom.addEventListener("change", () => {
  pxs = Number(zoom.value);
  document.getElementById("zoomtext").textContent = pxs;
  render();
});
legend();
render();
</script></body></html>
)PAGE";

}  // namespace

std::string TimelinePage(const std::string& title,
                         const std::string& model_json) {
  const std::string escaped = absl::StrReplaceAll(
      title, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
  return absl::StrCat(kHead, escaped, kStyle, model_json, kScript, kScript2);
}

}  // namespace chronik::sim
