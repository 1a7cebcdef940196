// Rooms with their device cards, kept live.
import { store } from "../api.js";
import { h } from "../ui.js";

const ORDER = ["light", "switch", "climate", "lock", "vacuum", "appliance", "todo", "sensor", "binary_sensor"];
const rank = (id) => { const i = ORDER.indexOf(id.split(".")[0]); return i < 0 ? 99 : i; };

export function homePage(params) {
  const filter = params.room || null;
  const root = h("main", { class: "page" });
  const cards = new Map();

  function render() {
    cards.clear();
    const groups = new Map(store.areas.map((a) => [a.id, { area: a, ids: [] }]));
    const other = { area: { id: "", name: "Other" }, ids: [] };
    for (const id of store.states.keys()) {
      const entry = store.entities.get(id);
      if (entry?.disabled) continue;
      const g = groups.get(store.areaOf(id)) || other;
      g.ids.push(id);
    }
    const sections = [...groups.values(), other].filter((g) => g.ids.length && (!filter || g.area.id === filter));
    const chips = h("nav", { class: "room-chips", "aria-label": "Rooms" },
      h("a", { href: "#/", class: filter ? "chip-link" : "chip-link on" }, "All"),
      store.areas.map((a) => h("a", { href: `#/room/${a.id}`, class: filter === a.id ? "chip-link on" : "chip-link" }, a.name)));
    const summary = homeSummary();
    root.replaceChildren(chips, summary, ...sections.map((g) => h("section", { class: "room", dataset: { area: g.area.id } },
      h("h2", {}, g.area.name, h("span", { class: "muted count" }, `${g.ids.length}`)),
      h("div", { class: "cards" }, g.ids.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((id) => {
        const card = document.createElement("hearth-card");
        card.entityId = id;
        cards.set(id, card);
        return card;
      })))));
    if (!sections.length) root.append(h("p", { class: "empty" }, "No devices yet. Pair one from the Add tab."));
  }
  function homeSummary() {
    const lightsOn = [...store.states.values()].filter((s) => s.entity_id.startsWith("light.") && s.state === "on").length;
    const temps = [...store.states.values()].filter((s) => s.attributes?.device_class === "temperature" && s.entity_id.startsWith("sensor."));
    const avg = temps.length ? (temps.reduce((t, s) => t + parseFloat(s.state || 0), 0) / temps.length).toFixed(1) : null;
    const locks = [...store.states.values()].filter((s) => s.entity_id.startsWith("lock."));
    const unlocked = locks.filter((s) => s.state !== "locked").length;
    return h("div", { class: "summary" },
      h("div", { class: "pill" }, h("strong", {}, lightsOn), ` light${lightsOn === 1 ? "" : "s"} on`),
      avg ? h("div", { class: "pill" }, h("strong", {}, `${avg}°`), " inside") : null,
      locks.length ? h("div", { class: unlocked ? "pill warn" : "pill" }, unlocked ? `${unlocked} unlocked` : "All locked") : null);
  }
  const onState = (e) => {
    const card = cards.get(e.detail.entity_id);
    if (card) card.update(); else if (e.detail.new_state) render();
    root.querySelector(".summary")?.replaceWith(homeSummary());
  };
  store.addEventListener("state", onState);
  store.addEventListener("registry", render);
  store.addEventListener("resync", render);
  render();
  root.cleanup = () => {
    store.removeEventListener("state", onState);
    store.removeEventListener("registry", render);
    store.removeEventListener("resync", render);
  };
  return root;
}
