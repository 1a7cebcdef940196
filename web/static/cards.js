// Device cards: the right control for each kind of entity, re-rendered on every state change.
import { callService, store } from "./api.js";
import { lineChart, loadHistory } from "./chart.js";
import { confirmAction, errorText, h, icon, modal, toast } from "./ui.js";

const ICONS = { select: "list", light: "bulb", switch: "plug", climate: "thermo", lock: "lock", appliance: "fridge", vacuum: "robot", sensor: "sensor", binary_sensor: "door", todo: "list" };

async function run(domain, service, entityId, data = {}) {
  try { await callService(domain, service, { entity_id: [entityId] }, data); }
  catch (err) { toast(errorText(err), "error"); }
}

function toggleSwitch(on, label, onchange) {
  return h("label", { class: "switch" },
    h("input", { type: "checkbox", role: "switch", checked: on, "aria-label": label, onchange: (e) => onchange(e.target.checked) }),
    h("span", { class: "slider" }));
}

const RENDER = {
  light(s, id, name) {
    const on = s.state === "on";
    const modes = s.attributes.supported_color_modes || [];
    const body = [];
    if (modes.some((m) => m !== "onoff")) {
      const pct = Math.round(((s.attributes.brightness ?? 0) / 255) * 100);
      body.push(h("input", { type: "range", min: 1, max: 100, value: on ? pct : 0, class: "range", "aria-label": `${name} brightness`,
        onchange: (e) => run("light", "turn_on", id, { brightness_pct: +e.target.value }) }));
    }
    if (modes.includes("rgb")) {
      const rgb = s.attributes.rgb_color || [255, 180, 110];
      const hex = "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
      body.push(h("div", { class: "row" }, h("span", { class: "muted" }, "Colour"),
        h("input", { type: "color", value: hex, "aria-label": `${name} colour`, onchange: (e) => {
          const v = e.target.value; run("light", "turn_on", id, { rgb_color: [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16)) });
        } })));
    }
    return { status: on ? (s.attributes.brightness ? `On · ${Math.round((s.attributes.brightness / 255) * 100)}%` : "On") : "Off",
      action: toggleSwitch(on, `${name} power`, (v) => run("light", v ? "turn_on" : "turn_off", id)), body, active: on };
  },
  switch(s, id, name) {
    const on = s.state === "on";
    const w = s.attributes.current_power_w;
    return { status: (on ? "On" : "Off") + (w ? ` · ${Math.round(w)} W` : ""), active: on,
      action: toggleSwitch(on, `${name} power`, (v) => run("switch", v ? "turn_on" : "turn_off", id)) };
  },
  climate(s, id, name) {
    const a = s.attributes;
    const step = a.target_temp_step || 0.5;
    const set = (t) => run("climate", "set_temperature", id, { temperature: Math.min(a.max_temp ?? 35, Math.max(a.min_temp ?? 5, t)) });
    return { status: `${a.current_temperature ?? "–"}${a.temperature_unit || "°C"} · ${a.hvac_action || s.state}`, active: a.hvac_action === "heating",
      body: [h("div", { class: "thermostat" },
        h("button", { class: "round", "aria-label": `${name} colder`, onclick: () => set((a.temperature ?? 20) - step) }, "−"),
        h("div", { class: "target" }, h("span", { class: "big" }, `${a.temperature ?? "–"}`), h("span", { class: "muted" }, "target °C")),
        h("button", { class: "round", "aria-label": `${name} warmer`, onclick: () => set((a.temperature ?? 20) + step) }, "+")),
      h("select", { class: "select", "aria-label": `${name} mode`, onchange: (e) => run("climate", "set_hvac_mode", id, { hvac_mode: e.target.value }) },
        (a.hvac_modes || []).map((m) => h("option", { value: m, selected: m === s.state }, m)))] };
  },
  lock(s, id, name) {
    const locked = s.state === "locked";
    return { status: s.state[0].toUpperCase() + s.state.slice(1), active: !locked, iconName: locked ? "lock" : "unlock",
      action: h("button", { class: locked ? "btn btn-small btn-danger" : "btn btn-small", onclick: async () => {
        if (locked && !(await confirmAction(`Unlock ${name}?`, "Anyone at the door can walk in.", "Unlock"))) return;
        run("lock", locked ? "unlock" : "lock", id);
      } }, locked ? "Unlock" : "Lock") };
  },
  appliance(s, id, name) {
    const a = s.attributes;
    const comps = Object.entries(a.compartments || {}).map(([key, c]) =>
      h("div", { class: "compartment" },
        h("div", {}, h("strong", {}, key[0].toUpperCase() + key.slice(1)), h("div", { class: "muted" }, `${c.temperature}° now`)),
        h("div", { class: "stepper" },
          h("button", { class: "round small", "aria-label": `${key} colder`, onclick: () => run("appliance", "set_temperature", id, { compartment: key, temperature: Math.max(c.min, c.target - 1) }) }, "−"),
          h("span", {}, `${c.target}°`),
          h("button", { class: "round small", "aria-label": `${key} warmer`, onclick: () => run("appliance", "set_temperature", id, { compartment: key, temperature: Math.min(c.max, c.target + 1) }) }, "+"))));
    const inv = (a.inventory || []).map((item) => h("span", { class: "chip" }, item,
      h("button", { class: "chip-x", "aria-label": `remove ${item}`, onclick: () => run("appliance", "remove_item", id, { item }) }, "×")));
    const add = h("form", { class: "inline-form", onsubmit: (e) => {
      e.preventDefault(); const inp = e.target.elements.namedItem("item"); if (inp.value.trim()) run("appliance", "add_item", id, { item: inp.value.trim() }); inp.value = "";
    } }, h("input", { name: "item", placeholder: "Add to inventory", "aria-label": "add item", maxlength: 80 }), h("button", { class: "btn btn-small" }, "Add"));
    const alerts = (a.alerts || []).map((x) => h("span", { class: "badge badge-warn" }, x.replaceAll("_", " ")));
    return { status: (a.door_open ? "Door open" : "Door closed") + (s.state !== "ok" ? ` · ${s.state}` : ""), active: a.door_open,
      body: [alerts.length ? h("div", { class: "row" }, alerts) : null, comps, h("div", { class: "chips" }, inv), add], wide: true };
  },
  vacuum(s, id, name) {
    const a = s.attributes;
    const battery = a.battery_level ?? 0;
    const room = h("select", { class: "select", "aria-label": `${name} room` }, (a.areas || []).map((r) => h("option", { value: r }, r)));
    return { status: `${(a.status || s.state).replaceAll("_", " ")}`, active: s.state === "cleaning",
      body: [
        h("div", { class: "battery", title: `Battery ${battery}%` }, h("div", { class: "battery-fill", style: `width:${battery}%` }), h("span", {}, `${battery}%`)),
        h("div", { class: "row gap" },
          h("button", { class: "btn btn-small", onclick: () => run("vacuum", s.state === "cleaning" ? "pause" : "start", id) }, s.state === "cleaning" ? "Pause" : "Start"),
          h("button", { class: "btn btn-small btn-ghost", onclick: () => run("vacuum", "return_to_base", id) }, "Dock")),
        h("div", { class: "row gap" }, room, h("button", { class: "btn btn-small", onclick: () => run("vacuum", "clean_area", id, { area: room.value }) }, "Clean this room"))] };
  },
  sensor(s, id) {
    const unit = s.attributes.unit_of_measurement || "";
    const spark = h("div", { class: "spark" });
    loadHistory(id, 24).then((pts) => spark.replaceChildren(lineChart(pts, { width: 240, height: 48 }))).catch(() => {});
    return { status: "", big: `${s.state}${unit ? " " + unit : ""}`, body: [spark], onopen: () => openHistory(id, unit) };
  },
  binary_sensor(s) {
    const on = s.state === "on";
    const dc = s.attributes.device_class;
    const words = { door: ["Open", "Closed"], window: ["Open", "Closed"], occupancy: ["Detected", "Clear"], motion: ["Motion", "Still"] }[dc] || ["On", "Off"];
    return { status: on ? words[0] : words[1], active: on };
  },
  select(s, id, name) {
    const options = s.attributes.options || [];
    return { status: s.state, action: h("select", { class: "select select-small", "aria-label": name, onchange: (e) => run("select", "select_option", id, { option: e.target.value }) },
      options.includes(s.state) ? null : h("option", { value: "", selected: true, disabled: true }, s.state),
      options.map((o) => h("option", { value: o, selected: o === s.state }, o))) };
  },
  number(s, id, name) {
    const a = s.attributes;
    const unit = a.unit_of_measurement || "";
    const value = parseFloat(s.state);
    const set = (v) => run("number", "set_value", id, { value: Math.min(a.max ?? v, Math.max(a.min ?? v, v)) });
    const step = a.step || 1;
    return { status: `${s.state}${unit ? " " + unit : ""}`,
      body: [h("div", { class: "stepper" },
        h("button", { class: "round small", "aria-label": `${name} lower`, disabled: isNaN(value), onclick: () => set(value - step) }, "−"),
        h("span", {}, `${s.state}${unit}`),
        h("button", { class: "round small", "aria-label": `${name} higher`, disabled: isNaN(value), onclick: () => set(value + step) }, "+"))] };
  },
  button(s, id, name) {
    return { status: "", action: h("button", { class: "btn btn-small", "aria-label": `Press ${name}`, onclick: () => run("button", "press", id) }, "Press") };
  },
  todo(s, id) {
    const items = s.attributes.items || [];
    return { status: `${items.length} item${items.length === 1 ? "" : "s"}`, body: [h("div", { class: "chips" }, items.map((i) =>
      h("span", { class: "chip" }, typeof i === "string" ? i : i.name || i.summary || JSON.stringify(i),
        h("button", { class: "chip-x", "aria-label": "remove", onclick: () => run("todo", "remove_item", id, { item: typeof i === "string" ? i : i.name || i.summary }) }, "×")))),
    h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); const v = e.target.elements.namedItem("item").value.trim(); if (v) run("todo", "add_item", id, { item: v }); e.target.reset(); } },
      h("input", { name: "item", placeholder: "Add item", "aria-label": "add item", maxlength: 200 }), h("button", { class: "btn btn-small" }, "Add"))] };
  },
};

async function openHistory(entityId, unit) {
  const box = h("div", { class: "history" }, h("p", { class: "muted" }, "Loading…"));
  modal(`${store.nameOf(entityId)} · last 24 hours`, box);
  try {
    const pts = await loadHistory(entityId, 24);
    box.replaceChildren(lineChart(pts, { width: 640, height: 260, unit, full: true }),
      h("p", { class: "muted" }, `${pts.length} readings`));
  } catch (err) { box.replaceChildren(h("p", { class: "error" }, errorText(err))); }
}

export class DeviceCard extends HTMLElement {
  constructor() {
    super();
    // Updates wait while a finger is on a slider, a list is open or words are being typed,
    // and are shown as soon as that is over (not when focus happens to leave the card).
    this._holding = false;
    this._pressing = false;
    this._chosen = true;
    // Nothing is redrawn between a press and its click: the pressed control would be replaced
    // and the click lost (an update held while typing used to be drawn on pointerup).
    const release = () => { this._pressing = false; this._holding = false; setTimeout(() => this.flush(), 0); };
    this.addEventListener("pointerdown", (e) => {
      this._pressing = true;
      if (e.target.matches?.("input[type=range]")) this._holding = true;
      document.addEventListener("pointerup", release, { once: true, capture: true });
      document.addEventListener("pointercancel", release, { once: true, capture: true });
    });
    this.addEventListener("focusin", (e) => { if (!this._refocusing && e.target.matches?.("select")) this._chosen = false; });
    const done = () => { this._holding = false; this._chosen = true; this.flush(); };
    this.addEventListener("change", done);
    // Not while focus moves within the card: re-drawing between a button's press and release
    // would swallow the click. A click is over once its handlers (and a form's submit) ran.
    this.addEventListener("focusout", (e) => { if (!this.contains(e.relatedTarget)) setTimeout(() => this.flush(), 0); });
    this.addEventListener("click", () => setTimeout(() => this.flush(), 0));
  }
  set entityId(id) { this._id = id; this.render(); }
  get entityId() { return this._id; }
  update() {
    const el = document.activeElement;
    if (this._pressing || (this.contains(el) && this.busy(el))) { this._stale = true; return; }
    this.render();
  }
  busy(el) {
    if (el.matches("input[type=range]")) return this._holding;
    if (el.matches("input[type=text],input:not([type])")) return el.value !== "";
    if (el.matches("select")) return !this._chosen;
    return false;
  }
  flush() {
    if (!this._stale || this._pressing) return;
    const el = document.activeElement;
    if (this.contains(el) && this.busy(el)) return;
    this._stale = false;
    this.render();
  }
  render() {
    const s = store.states.get(this._id);
    if (!s) return;
    // Keep the keyboard where it was: the control with the same label gets focus back.
    const focused = this.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
    const domain = this._id.split(".")[0];
    const name = store.nameOf(this._id);
    const unavailable = s.state === "unavailable";
    const r = unavailable ? { status: "Unavailable" } : (RENDER[domain] || ((st) => ({ status: st.state })))(s, this._id, name);
    this.className = `card card-${domain}${r.active ? " active" : ""}${r.wide ? " wide" : ""}${unavailable ? " unavailable" : ""}`;
    this.dataset.entity = this._id;
    this.dataset.state = s.state;
    const head = h("div", { class: "card-head" },
      h("div", { class: "card-icon" }, icon(r.iconName || ICONS[domain] || "sensor")),
      h("div", { class: "card-title" }, h("div", { class: "card-name" }, name), h("div", { class: "card-status" }, r.status)),
      r.action || null);
    const parts = [head];
    if (r.big) parts.push(h("div", { class: "big-value" }, r.big));
    if (r.body && !unavailable) parts.push(h("div", { class: "card-body" }, r.body));
    this.replaceChildren(...parts);
    if (focused) {
      this._refocusing = true;
      this.querySelector(`[aria-label="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
      this._refocusing = false;
    }
    if (r.onopen) { this.tabIndex = 0; this.onclick = (e) => { if (!e.target.closest("button,input,select")) r.onopen(); }; }
  }
}
customElements.define("hearth-card", DeviceCard);
