// A dependency-free SVG line chart for sensor history.
import { api } from "./api.js";

const NS = "http://www.w3.org/2000/svg";
const svgEl = (tag, attrs) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};

export async function loadHistory(entityId, hours = 24) {
  const rows = await api("GET", `/api/history/${encodeURIComponent(entityId)}?hours=${hours}`);
  return rows
    .map((r) => ({ t: new Date(r.last_updated).getTime(), v: parseFloat(r.state) }))
    .filter((p) => Number.isFinite(p.v));
}

/** Draw points into an SVG; `full` adds axes labels. */
export function lineChart(points, { width = 300, height = 80, unit = "", full = false } = {}) {
  const pad = full ? { l: 40, r: 10, t: 10, b: 24 } : { l: 2, r: 2, t: 4, b: 4 };
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: full ? "chart chart-full" : "chart", role: "img" });
  if (points.length === 0) {
    const t = svgEl("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "chart-empty" });
    t.textContent = "No history yet";
    svg.append(t);
    return svg;
  }
  const now = Date.now();
  const pts = [...points, { t: now, v: points[points.length - 1].v }];
  const t0 = Math.min(pts[0].t, now - 600e3), t1 = now;
  let lo = Math.min(...pts.map((p) => p.v)), hi = Math.max(...pts.map((p) => p.v));
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  // Sensors hold their value until the next report: draw steps, not slopes.
  let d = `M${x(pts[0].t).toFixed(1)},${y(pts[0].v).toFixed(1)}`;
  for (let i = 1; i < pts.length; i++) d += `H${x(pts[i].t).toFixed(1)}V${y(pts[i].v).toFixed(1)}`;
  const area = `${d}V${height - pad.b}H${x(pts[0].t).toFixed(1)}Z`;
  svg.append(svgEl("path", { d: area, class: "chart-area" }), svgEl("path", { d, class: "chart-line" }));
  if (full) {
    for (const v of [lo, (lo + hi) / 2, hi]) {
      const t = svgEl("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-label" });
      t.textContent = `${+v.toFixed(1)}${unit}`;
      svg.append(t, svgEl("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: "chart-grid" }));
    }
    for (const t of [t0, (t0 + t1) / 2, t1]) {
      const lbl = svgEl("text", { x: x(t), y: height - 6, "text-anchor": "middle", class: "chart-label" });
      lbl.textContent = new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      svg.append(lbl);
    }
  }
  return svg;
}
