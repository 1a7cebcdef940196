// Rules: list with enable/disable, a YAML editor, and traces of recent runs.
import { api, store } from "../api.js";
import { confirmAction, errorText, h, timeAgo, toast } from "../ui.js";

const TEMPLATE = `id: welcome_home
name: Welcome home
description: Turn on the living room lamp when someone gets home
triggers:
  - platform: state
    entity_id: binary_sensor.someone_home
    to: "on"
actions:
  - service: light.turn_on
    target:
      entity_id: light.living_room_lamp
`;

const runNow = (id) => api("POST", "/api/services/rules/trigger", { data: { rule_id: id } });

const unavailable = () => h("main", { class: "page" }, h("h1", {}, "Rules"),
  h("div", { class: "banner" }, "Rules are not running on this hub. Add ", h("code", {}, "rules:"), " to configuration.yaml and restart."));

export function rulesPage(params) {
  if (!store.config?.rules) return unavailable();
  if (params.id !== undefined) return editorPage(params.id);
  const isAdmin = store.user?.role === "admin";
  const list = h("div", { class: "list" }, h("p", { class: "muted" }, "Loading…"));
  const root = h("main", { class: "page" },
    h("div", { class: "page-head" }, h("h1", {}, "Rules"), isAdmin ? h("a", { class: "btn btn-primary", href: "#/rules/new" }, "New rule") : null),
    list);
  async function load() {
    try {
      const rules = await api("GET", "/api/rules");
      list.replaceChildren(...(rules.length ? rules.map(row) : [h("p", { class: "empty" }, "No rules yet.")]));
    } catch (err) { list.replaceChildren(h("p", { class: "error" }, errorText(err))); }
  }
  function row(rule) {
    const name = rule.name || rule.id;
    return h("div", { class: "list-row", dataset: { rule: rule.id } },
      h("a", { class: "grow", href: `#/rules/${encodeURIComponent(rule.id)}` },
        h("div", { class: "strong" }, name),
        h("div", { class: "muted small" }, rule.description || (rule.last_triggered ? `Last ran ${timeAgo(new Date(rule.last_triggered * 1000))}` : "Never ran"),
          rule.source === "file" ? h("span", { class: "badge" }, "rules.yaml") : null,
          (rule.errors || []).length ? h("span", { class: "badge badge-warn" }, "error") : null)),
      h("label", { class: "switch" }, h("input", { type: "checkbox", role: "switch", "aria-label": `${name} enabled`, checked: rule.enabled !== false, disabled: !isAdmin,
        onchange: async (e) => {
          try { await api("POST", `/api/rules/${encodeURIComponent(rule.id)}/enabled`, { enabled: e.target.checked }); toast(`${name} ${e.target.checked ? "enabled" : "disabled"}`); }
          catch (err) { e.target.checked = !e.target.checked; toast(errorText(err), "error"); }
        } }), h("span", { class: "slider" })));
  }
  load();
  return root;
}

function editorPage(id) {
  const isNew = id === "new";
  const isAdmin = store.user?.role === "admin";
  const area = h("textarea", { class: "code", spellcheck: "false", "aria-label": "Rule YAML", rows: 18, disabled: !isAdmin }, isNew ? TEMPLATE : "Loading…");
  const error = h("pre", { class: "error", role: "alert" });
  const traces = h("div", { class: "traces" });
  const save = h("button", { class: "btn btn-primary", disabled: !isAdmin, onclick: async () => {
    error.textContent = "";
    try {
      const saved = isNew ? await api("POST", "/api/rules", { yaml: area.value }) : await api("PUT", `/api/rules/${encodeURIComponent(id)}`, { yaml: area.value });
      toast("Rule saved");
      location.hash = `#/rules/${encodeURIComponent(saved?.id || id)}`;
    } catch (err) {
      const issues = err.body?.issues || err.body?.errors;
      error.textContent = issues ? (Array.isArray(issues) ? issues.map((i) => (i.line ? `line ${i.line}: ` : "") + (i.message || JSON.stringify(i))).join("\n") : JSON.stringify(issues, null, 2)) : errorText(err);
    }
  } }, "Save");
  const del = isNew || !isAdmin ? null : h("button", { class: "btn btn-danger", onclick: async () => {
    if (!(await confirmAction("Delete this rule?", "It stops running right away.", "Delete"))) return;
    try { await api("DELETE", `/api/rules/${encodeURIComponent(id)}`); location.hash = "#/rules"; } catch (err) { toast(errorText(err), "error"); }
  } }, "Delete");
  const run = isNew || !isAdmin ? null : h("button", { class: "btn", onclick: async () => {
    try { await runNow(id); toast("Rule started"); setTimeout(loadTraces, 500); } catch (err) { toast(errorText(err), "error"); }
  } }, "Run now");
  const loadTraces = () => api("GET", `/api/rules/${encodeURIComponent(id)}/traces`).then((ts) => {
    traces.replaceChildren(h("h2", {}, "Recent runs"), ...(ts.length ? ts.slice(0, 20).map(traceRow) : [h("p", { class: "muted" }, "This rule has not run yet.")]));
  }).catch(() => {});
  if (!isNew) {
    api("GET", `/api/rules/${encodeURIComponent(id)}`).then((r) => {
      area.value = r.yaml || "";
      if (!r.editable) { area.disabled = true; save.disabled = true; if (del) del.disabled = true; error.textContent = "This rule lives in rules.yaml: edit it there."; }
    }).catch((err) => { error.textContent = errorText(err); });
    loadTraces();
  }
  return h("main", { class: "page" },
    h("div", { class: "page-head" }, h("a", { href: "#/rules", class: "back" }, "‹ Rules"), h("h1", {}, isNew ? "New rule" : id)),
    area, error, h("div", { class: "row gap" }, save, run, del), traces);
}

function traceRow(t) {
  const steps = t.steps || [];
  const state = t.error ? "error" : t.state || "ran";
  return h("details", { class: "trace", dataset: { run: t.run_id } },
    h("summary", {}, h("span", { class: `badge ${t.error ? "badge-warn" : "badge-ok"}` }, state),
      " ", t.started ? new Date(t.started * 1000).toLocaleString() : "",
      t.trigger?.platform ? ` · ${t.trigger.platform}` : "", t.seconds != null ? ` · ${Math.round(t.seconds * 1000)} ms` : "",
      t.reason ? ` · ${t.reason}` : ""),
    t.error ? h("p", { class: "error" }, t.error) : null,
    h("ol", { class: "steps" }, steps.map((s) => h("li", {}, h("code", {}, s.path || ""), " ", s.kind || s.action || "", s.error ? h("span", { class: "error" }, ` ${s.error}`) : ""))),
    h("details", {}, h("summary", { class: "muted small" }, "Raw trace"), h("pre", { class: "code small" }, JSON.stringify(t, null, 2))));
}
