// REST client, live connection and the shared store of states, areas and entities.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "error";
    this.body = body || {};
  }
}

let csrfToken = null;
export function setCsrf(token) { csrfToken = token; }

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const callService = (domain, service, target, data = {}) =>
  api("POST", `/api/services/${domain}/${service}`, { target, data });

/** One place that holds what the pages show, fed by REST then kept live by the websocket. */
class Store extends EventTarget {
  constructor() {
    super();
    this.states = new Map();
    this.areas = [];
    this.entities = new Map();
    this.devices = [];
    this.notifications = new Map();
    this.config = null;
    this.user = null;
    this.connected = false;
  }
  async load() {
    const [states, areas, entities, devices, notes, config] = await Promise.all([
      api("GET", "/api/states"), api("GET", "/api/areas"), api("GET", "/api/entities"),
      api("GET", "/api/devices"), api("GET", "/api/notifications"), api("GET", "/api/config"),
    ]);
    this.states = new Map(states.map((s) => [s.entity_id, s]));
    this.areas = areas;
    this.entities = new Map(entities.map((e) => [e.entity_id, e]));
    this.devices = devices;
    this.notifications = new Map(notes.map((n) => [n.id, n]));
    this.config = config;
    this.emit("loaded");
  }
  async reloadRegistry() {
    const [areas, entities, devices] = await Promise.all([
      api("GET", "/api/areas"), api("GET", "/api/entities"), api("GET", "/api/devices"),
    ]);
    this.areas = areas;
    this.entities = new Map(entities.map((e) => [e.entity_id, e]));
    this.devices = devices;
    this.emit("registry");
  }
  areaOf(entityId) { return this.entities.get(entityId)?.effective_area_id || null; }
  nameOf(entityId) {
    const entry = this.entities.get(entityId);
    return entry?.name_by_user || this.states.get(entityId)?.attributes?.friendly_name || entry?.name || entityId;
  }
  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}
export const store = new Store();

/** The websocket closed before a command was answered. */
export class ConnectionLost extends Error {
  constructor() { super("connection lost"); this.name = "ConnectionLost"; }
}

/** The websocket: subscribes to everything the user may see and reconnects on its own. */
class Live {
  constructor() { this.ws = null; this.nextId = 1; this.pending = new Map(); this.handlers = new Map(); this.backoff = 500; this.stopped = false; }
  start() { this.stopped = false; this.connect(); }
  stop() { this.stopped = true; this.ws?.close(); }
  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/websocket`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (ev) => {
      const data = JSON.parse(ev.data);
      for (const msg of Array.isArray(data) ? data : [data]) {
        // A socket lost mid-handshake (hub restart, page leaving) rejects the pending
        // subscriptions; the reconnect subscribes again, so only other errors surface.
        this.handle(msg).catch((err) => { if (!(err instanceof ConnectionLost)) throw err; });
      }
    };
    ws.onclose = (ev) => {
      // 4003: this user's rights changed or were revoked; start over with what is left.
      if (ev.code === 4003 && !this.stopped) { this.stopped = true; location.reload(); return; }
      store.connected = false; store.emit("connection");
      for (const [, p] of this.pending) p.reject(new ConnectionLost());
      this.pending.clear();
      if (!this.stopped) setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }
  async handle(msg) {
    if (msg.type === "auth_ok") {
      this.backoff = 500;
      store.connected = true;
      await this.command({ type: "subscribe_states" }, (ev) => {
        if (ev.new_state) store.states.set(ev.entity_id, ev.new_state); else store.states.delete(ev.entity_id);
        store.emit("state", ev);
      });
      await this.command({ type: "subscribe_events", event_type: "notification" }, (ev) => {
        const d = ev.data;
        if (d.action === "dismiss") store.notifications.delete(d.id); else store.notifications.set(d.id, d);
        store.emit("notifications");
      });
      if (store.user?.role !== "guest") {
        await this.command({ type: "subscribe_events", event_type: "registry_updated" }, () => {
          clearTimeout(this.regTimer);
          this.regTimer = setTimeout(() => store.reloadRegistry().catch(() => {}), 150);
        });
      }
      // Catch up on what changed while we were away.
      const states = await this.command({ type: "get_states" });
      store.states = new Map(states.map((s) => [s.entity_id, s]));
      store.emit("connection"); store.emit("resync");
    } else if (msg.type === "auth_required" || msg.type === "auth_invalid") {
      this.stopped = true; this.ws.close(); store.emit("signed-out");
    } else if (msg.type === "result") {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (p) msg.success ? p.resolve(msg.result) : p.reject(new ApiError(400, msg.error));
    } else if (msg.type === "event") {
      this.handlers.get(msg.id)?.(msg.event);
    }
  }
  command(msg, onEvent) {
    const id = this.nextId++;
    if (onEvent) this.handlers.set(id, onEvent);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...msg, id }));
    }).then((r) => (onEvent ? { result: r, unsubscribe: () => this.unsubscribe(id) } : r));
  }
  unsubscribe(id) {
    this.handlers.delete(id);
    if (this.ws?.readyState === WebSocket.OPEN) this.command({ type: "unsubscribe", subscription: id }).catch(() => {});
  }
}
export const live = new Live();
