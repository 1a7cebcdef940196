// Pairing wizard: choose a protocol, watch devices appear live, name them and give them a room.
import { api, live, store } from "../api.js";
import { errorText, h, icon, toast } from "../ui.js";

const PROTOCOLS = [
  { id: "zigbee", name: "Zigbee", icon: "zigbee", hint: "Bulbs, plugs, sensors. Put the device in pairing mode (often: power it on, or hold its button)." },
  { id: "ble", name: "Bluetooth", icon: "ble", hint: "Thermometers and bulbs nearby. Keep the device within a few metres of the hub." },
  { id: "wifi", name: "Wi-Fi", icon: "wifi", hint: "Hearth appliances. The hub hands over your Wi-Fi and its broker details." },
  { id: "all", name: "Search everything", icon: "search", hint: "Listen on every radio at once." },
];
const STAGE_TEXT = { searching: "Searching", found: "Found", joined: "Joined", interviewing: "Learning what it is", configured: "Configuring", ready: "Ready", failed: "Failed", done: "Finished" };
const STAGE_PCT = { found: 15, joined: 35, interviewing: 60, configured: 85, ready: 100 };
const SCAN_SECONDS = { default: 120, ble: 15 };
// What a found device may need before it can be added, in words a person knows.
const NEEDS = {
  wifi_ssid: { label: "Wi-Fi name", attrs: { maxlength: 32 } },
  wifi_password: { label: "Wi-Fi password", optional: true, attrs: { type: "password", maxlength: 63 } },
  setup_code: { label: "Setup code (on the device's label)", attrs: { inputmode: "numeric", maxlength: 32 } },
  bind_key: { label: "Bind key (32 hexadecimal characters)", attrs: { maxlength: 64, class: "mono" } },
};

export function pairingPage() {
  const root = h("main", { class: "page pairing" });
  if (store.user?.role !== "admin") {
    root.append(h("h1", {}, "Add a device"), h("div", { class: "banner" }, "Only an admin can pair devices."));
    return root;
  }
  const available = new Set(store.config?.pairing_protocols || []);
  let sub = null;
  root.cleanup = () => sub?.unsubscribe();
  chooser();
  return root;

  function chooser() {
    const wifiForm = h("form", { class: "card form-card hidden", onsubmit: (e) => {
      e.preventDefault();
      start(["wifi"], { wifi_ssid: wifiForm.elements.ssid.value, wifi_password: wifiForm.elements.password.value });
    } },
    h("h2", {}, "Your Wi-Fi"),
    h("label", { class: "field" }, h("span", {}, "Network name"), h("input", { name: "ssid", required: true, maxlength: 32 })),
    h("label", { class: "field" }, h("span", {}, "Password"), h("input", { name: "password", type: "password", maxlength: 63 })),
    h("button", { class: "btn btn-primary" }, "Start"));
    const choices = PROTOCOLS.map((p) => {
      const ok = p.id === "all" ? available.size > 0 : available.has(p.id);
      return h("button", { class: "choice", disabled: !ok, dataset: { protocol: p.id }, onclick: () => {
        if (p.id === "wifi") { wifiForm.classList.remove("hidden"); wifiForm.elements.ssid.focus(); return; }
        start(p.id === "all" ? [] : [p.id], {});
      } }, h("span", { class: "choice-icon" }, icon(p.icon)), h("span", { class: "choice-text" }, h("strong", {}, p.name), h("span", { class: "muted small" }, ok ? p.hint : "Not set up on this hub")));
    });
    root.replaceChildren(h("h1", {}, "Add a device"), h("p", { class: "muted" }, "What kind of device are you adding?"), h("div", { class: "choices" }, choices), wifiForm);
  }

  async function start(protocols, options) {
    // A BLE scan reports what it heard when it ends, so it gets a short one of its own.
    const wanted = protocols.length ? protocols : [...available];
    const byDuration = new Map();
    for (const p of wanted) {
      const seconds = SCAN_SECONDS[p] || SCAN_SECONDS.default;
      byDuration.set(seconds, [...(byDuration.get(seconds) || []), p]);
    }
    const started = await Promise.allSettled([...byDuration].map(([duration, ps]) => api("POST", "/api/pairing", { protocols: ps, duration, options })));
    const failed = started.find((r) => r.status === "rejected");
    const sessions = started.filter((r) => r.status === "fulfilled").map((r) => r.value);
    if (failed) {
      for (const s of sessions) api("DELETE", `/api/pairing/${s.id}`).catch(() => {});
      toast(errorText(failed.reason), "error");
      return;
    }
    const searching = new Set(sessions.map((s) => s.id));
    const devices = new Map();
    // Adding one found device runs in a session of its own: its steps go to that device's card.
    const bySession = new Map();
    const early = new Map(); // steps of sessions not adopted yet (they can beat the POST's answer)
    const ctx = {
      known: { ...options },
      adopt(sessionId, item) {
        bySession.set(sessionId, item);
        for (const step of early.get(sessionId) || []) item.update(step);
        early.delete(sessionId);
      },
    };
    const list = h("div", { class: "found" });
    const status = h("div", { class: "searching" }, h("span", { class: "pulse" }), h("span", { class: "status-text" }, `Searching ${wanted.join(", ")}…`));
    const done = h("button", { class: "btn", onclick: () => { stop(); } }, "Stop");
    root.replaceChildren(h("h1", {}, "Add a device"), status, list, h("div", { class: "row gap" }, done));
    function stop() {
      sub?.unsubscribe(); sub = null;
      for (const s of sessions) api("DELETE", `/api/pairing/${s.id}`).catch(() => {});
      chooser();
    }
    const onStep = (step) => {
      const own = bySession.get(step.session_id);
      if (own) { if (!step.finished) own.update(step); return; }
      if (step.session_id && !sessions.some((s) => s.id === step.session_id)) {
        if (!early.has(step.session_id)) early.set(step.session_id, []);
        early.get(step.session_id).push(step);
        return;
      }
      if (step.finished) {
        searching.delete(step.session_id);
        if (searching.size) return;
        status.classList.add("stopped");
        status.querySelector(".status-text").textContent = devices.size ? "Search finished." : "Search finished. Nothing new was found.";
        done.textContent = "Done";
        return;
      }
      if (step.stage === "searching") { status.querySelector(".status-text").textContent = `Searching ${step.protocol}… ${step.message || ""}`; return; }
      if (step.stage === "done") return;
      // Early steps may not name the device yet: they belong to the newest unfinished one.
      const key = step.device_id || step.candidate?.id;
      let item = key ? devices.get(key) : undefined;
      if (!item) {
        item = [...devices.values()].reverse().find((i) => i.protocol === step.protocol && !i.finished && !i.candidate);
        if (item && key) devices.set(key, item);
      }
      if (!item) { item = deviceItem(step, ctx); devices.set(key || Symbol("device"), item); list.append(item.el); }
      // Once the person is adding a found device, its own session tells how that goes.
      if (!item.adding) item.update(step);
    };
    try {
      sub = await live.command({ type: "subscribe_events", event_type: "pairing_progress" }, (ev) => onStep(ev.data));
      for (const s of sessions) {
        const current = await api("GET", `/api/pairing/${s.id}`);
        for (const step of current.progress) onStep({ session_id: s.id, ...step });
        if (current.done) onStep({ session_id: s.id, stage: "done", finished: true });
      }
    } catch (err) { toast(errorText(err), "error"); }
  }

  function deviceItem(first, ctx) {
    const title = h("strong", {}, first.suggested_name || first.candidate?.name || "New device");
    const stage = h("span", { class: "badge" });
    const bar = h("div", { class: "progress" }, h("div", { class: "progress-fill" }));
    const detail = h("div", { class: "muted small" });
    const error = h("p", { class: "error", role: "alert" });
    const form = h("div", { class: "name-form" });
    const el = h("div", { class: "card found-device" }, h("div", { class: "row" }, icon(first.protocol === "ble" ? "ble" : first.protocol === "wifi" ? "wifi" : "zigbee"), title, stage), bar, detail, error, form);
    let named = false;
    const item = {
      el,
      protocol: first.protocol,
      finished: false,
      candidate: null,
      adding: false,
      update(step) {
        if (step.stage === "done") return;
        if (step.stage === "ready" || step.stage === "failed") this.finished = true;
        stage.textContent = STAGE_TEXT[step.stage] || step.stage;
        stage.className = `badge ${step.stage === "failed" ? "badge-warn" : step.stage === "ready" ? "badge-ok" : ""}`;
        const pct = step.progress != null ? Math.round(step.progress * 100) : STAGE_PCT[step.stage];
        if (pct != null) bar.firstChild.style.width = `${pct}%`;
        detail.textContent = step.message || "";
        el.dataset.stage = step.stage;
        if (step.suggested_name) title.textContent = step.suggested_name;
        if (step.stage === "found" && step.candidate && !this.candidate) {
          this.candidate = step.candidate;
          el.dataset.candidate = step.candidate.id;
          form.replaceChildren(candidateForm(this, ctx));
        }
        if (step.stage === "failed") {
          error.textContent = step.message || "Pairing failed.";
          detail.textContent = "";
          // A wrong code or key is worth another try without searching again.
          if (this.adding && this.candidate) { this.adding = false; this.finished = false; form.replaceChildren(candidateForm(this, ctx)); }
        } else error.textContent = "";
        if (step.stage === "ready" && !named) {
          named = true;
          resolveDevice(step).then((deviceId) => form.replaceChildren(deviceId ? nameForm(step, deviceId) : h("p", { class: "ok" }, "Added.")));
        }
      },
    };
    return item;
  }

  function candidateForm(item, ctx) {
    const c = item.candidate;
    if (c.details?.pairable === false || (c.protocol === "ble" && !c.details?.kind)) {
      return h("p", { class: "muted small advice" }, c.details?.advice || "Hearth cannot add this device.");
    }
    const asked = (c.needs || []).filter((n) => !ctx.known[n]);
    const inputs = asked.map((n) => {
      const need = NEEDS[n] || { label: n.replaceAll("_", " "), attrs: {} };
      return h("label", { class: "field" }, h("span", {}, need.label), h("input", { name: n, required: need.optional ? undefined : true, autocomplete: "off", spellcheck: "false", ...need.attrs }));
    });
    const given = (c.needs || []).filter((n) => ctx.known[n]);
    const note = given.includes("wifi_ssid") ? h("p", { class: "muted small" }, `Joins the Wi-Fi “${ctx.known.wifi_ssid}”.`) : null;
    const f = h("form", { class: "candidate-form", onsubmit: async (e) => {
      e.preventDefault();
      const options = Object.fromEntries(given.map((n) => [n, ctx.known[n]]));
      for (const l of inputs) { const input = l.querySelector("input"); options[input.name] = input.value.trim(); }
      const button = f.querySelector("button");
      button.disabled = true;
      try {
        const session = await api("POST", "/api/pairing", { protocols: [c.protocol], candidate_id: c.id, options, duration: 60 });
        item.adding = true;
        item.finished = false;
        f.replaceChildren(h("p", { class: "muted" }, "Adding…"));
        ctx.adopt(session.id, item);
      } catch (err) { button.disabled = false; toast(errorText(err), "error"); }
    } }, note, inputs, h("button", { class: "btn btn-small btn-primary" }, "Add this device"));
    return f;
  }

  /** The device a ready step is about: named by the step, or found from its entities. */
  async function resolveDevice(step) {
    if (step.device_id) return step.device_id;
    if (!step.entity_ids?.length) return null;
    try {
      const entities = await api("GET", "/api/entities");
      return entities.find((e) => step.entity_ids.includes(e.entity_id) && e.device_id)?.device_id || null;
    } catch { return null; }
  }

  function nameForm(step, deviceId) {
    const device = store.devices.find((d) => d.id === deviceId);
    const f = h("form", { class: "name-fields", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api("PATCH", `/api/devices/${deviceId}`, { name: f.elements.name.value, area_id: f.elements.area.value });
        f.replaceChildren(h("p", { class: "ok" }, `Saved as “${f.elements.name.value}”`));
        toast("Device added");
      } catch (err) { toast(errorText(err), "error"); }
    } },
    h("label", { class: "field" }, h("span", {}, "Name"), h("input", { name: "name", required: true, maxlength: 100, value: step.suggested_name || device?.display_name || "" })),
    h("label", { class: "field" }, h("span", {}, "Room"), h("select", { name: "area", class: "select" }, h("option", { value: "" }, "No room"),
      store.areas.map((a) => h("option", { value: a.id }, a.name)))),
    h("button", { class: "btn btn-primary" }, "Save"));
    return f;
  }
}
