// Small DOM helpers: an element builder, toasts, confirmation and modal dialogs, icons.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v; // CSSOM, allowed by the strict CSP
    else if (k === "value" || k === "checked" || k === "disabled" || k === "selected") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function toast(message, kind = "info") {
  const el = h("div", { class: `toast toast-${kind}` }, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.classList.add("gone"), 3500);
  setTimeout(() => el.remove(), 4000);
}

export function errorText(err) {
  if (err?.code === "rate_limited") return `Too many attempts. Try again in ${err.body.retry_after} s.`;
  return err?.message || String(err);
}

/** A modal dialog; resolves with the value of the button pressed (or null). */
export function modal(title, body, buttons = [{ label: "Close", value: null }]) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "modal", "aria-label": title },
      h("h2", {}, title),
      h("div", { class: "modal-body" }, body),
      h("div", { class: "modal-actions" }, buttons.map((b) =>
        h("button", { class: b.class || "btn", type: "button", onclick: () => { dlg.close(); resolve(b.value); } }, b.label))));
    dlg.addEventListener("cancel", () => resolve(null));
    dlg.addEventListener("close", () => setTimeout(() => dlg.remove(), 0));
    document.body.append(dlg);
    dlg.showModal();
  });
}

export const confirmAction = (title, message, label = "Confirm") =>
  modal(title, h("p", {}, message), [
    { label: "Cancel", value: false, class: "btn btn-ghost" },
    { label, value: true, class: "btn btn-danger" },
  ]).then((v) => v === true);

const PATHS = {
  home: "M12 3 2 12h3v8h6v-6h2v6h6v-8h3z",
  mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z",
  rules: "M4 5h10v2H4zm0 6h10v2H4zm0 6h6v2H4zm13-8 4 4-4 4v-3h-3v-2h3z",
  plus: "M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z",
  gear: "M12 8.5A3.5 3.5 0 1 0 12 15.5 3.5 3.5 0 1 0 12 8.5zm8.4 4.9 1.6 1.3-2 3.4-1.9-.7a7 7 0 0 1-1.7 1l-.3 2H9.9l-.3-2a7 7 0 0 1-1.7-1l-1.9.7-2-3.4 1.6-1.3a7 7 0 0 1 0-2L4 9.1l2-3.4 1.9.7a7 7 0 0 1 1.7-1l.3-2h4.2l.3 2a7 7 0 0 1 1.7 1l1.9-.7 2 3.4-1.6 1.3a7 7 0 0 1 0 2z",
  bell: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11a6 6 0 0 0-5-5.9V4a1 1 0 0 0-2 0v1.1A6 6 0 0 0 6 11v5l-2 2v1h16v-1z",
  bulb: "M9 21h6v-1H9zm3-19a7 7 0 0 0-4 12.7V17h8v-2.3A7 7 0 0 0 12 2z",
  plug: "M16 7V3h-2v4h-4V3H8v4a2 2 0 0 0-2 2v4l3 3v5h6v-5l3-3V9a2 2 0 0 0-2-2z",
  thermo: "M15 13V5a3 3 0 0 0-6 0v8a5 5 0 1 0 6 0zm-3-9a1 1 0 0 1 1 1v3h-2V5a1 1 0 0 1 1-1z",
  lock: "M12 2a5 5 0 0 0-5 5v3H6v12h12V10h-1V7a5 5 0 0 0-5-5zm-3 8V7a3 3 0 0 1 6 0v3z",
  unlock: "M12 2a5 5 0 0 0-5 5h2a3 3 0 0 1 6 0v3H6v12h12V10h-1V7a5 5 0 0 0-5-5z",
  fridge: "M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm0 7h10V4H7zm2-4h2v3H9zm0 6h2v5H9z",
  robot: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 4a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
  sensor: "M3 17h4l3-8 4 12 3-7h4v2h-3l-4 9-4-12-2 6H3z",
  door: "M6 2h12v20H6zm9 9a1 1 0 1 0 0 2 1 1 0 0 0 0-2z",
  list: "M4 6h2v2H4zm4 0h12v2H8zm-4 5h2v2H4zm4 0h12v2H8zm-4 5h2v2H4zm4 0h12v2H8z",
  qr: "M3 3h8v8H3zm2 2v4h4V5zm8-2h8v8h-8zm2 2v4h4V5zM3 13h8v8H3zm2 2v4h4v-4zm8-2h2v2h-2zm2 2h2v2h-2zm2-2h2v2h-2zm0 4h2v4h-4v-2h2zm-4 2h2v2h-2z",
  x: "M6 5 5 6l6 6-6 6 1 1 6-6 6 6 1-1-6-6 6-6-1-1-6 6z",
  zigbee: "M4 4h16v3L9 17h11v3H4v-3L15 7H4z",
  ble: "M11 2v8L7 6 5.6 7.4 10.2 12l-4.6 4.6L7 18l4-4v8h1l6-6-4.6-4.6L18 8l-6-6zm2 4 2 2-2 2zm0 8 2 2-2 2z",
  wifi: "M12 18a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM4 10l2 2a9 9 0 0 1 12 0l2-2a12 12 0 0 0-16 0zm4 4 2 2a3 3 0 0 1 4 0l2-2a6 6 0 0 0-8 0z",
  search: "M10 3a7 7 0 1 0 4.2 12.6l5.6 5.6 1.4-1.4-5.6-5.6A7 7 0 0 0 10 3zm0 2a5 5 0 1 1 0 10 5 5 0 0 1 0-10z",
};

export function icon(name, cls = "icon") {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name] || PATHS.sensor);
  svg.append(path);
  return svg;
}

export function timeAgo(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
