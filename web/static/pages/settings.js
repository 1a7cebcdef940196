// Settings: users, access tokens, rooms, device names, and the QR code for phones.
import { api, store } from "../api.js";
import { confirmAction, errorText, h, modal, timeAgo, toast } from "../ui.js";

const TABS = [["people", "People"], ["tokens", "Tokens"], ["rooms", "Rooms"], ["devices", "Devices"], ["phone", "Phone"]];

export function settingsPage(params) {
  const isAdmin = store.user?.role === "admin";
  const tabs = TABS.filter(([id]) => isAdmin || id === "tokens" || id === "phone");
  const tab = tabs.some(([id]) => id === params.tab) ? params.tab : tabs[0][0];
  const body = h("div", { class: "settings-body" });
  const root = h("main", { class: "page settings" },
    h("h1", {}, "Settings"),
    h("nav", { class: "tabs", role: "tablist" }, tabs.map(([id, label]) => h("a", { href: `#/settings/${id}`, role: "tab", class: id === tab ? "tab on" : "tab", "aria-selected": String(id === tab) }, label))),
    body);
  ({ people, tokens, rooms, devices, phone })[tab](body).catch?.((err) => body.replaceChildren(h("p", { class: "error" }, errorText(err))));
  return root;
}

async function people(body) {
  const users = await api("GET", "/api/users");
  const areaPick = h("div", { class: "checks" }, store.areas.map((a) => h("label", {}, h("input", { type: "checkbox", name: "areas", value: a.id }), " ", a.name)));
  const form = h("form", { class: "card form-card", onsubmit: async (e) => {
    e.preventDefault();
    const f = form.elements;
    const areas = [...form.querySelectorAll("input[name=areas]:checked")].map((i) => i.value);
    try {
      await api("POST", "/api/users", { username: f.username.value, name: f.name.value, password: f.password.value, role: f.role.value, areas });
      toast("Person added"); people(body);
    } catch (err) { toast(errorText(err), "error"); }
  } },
  h("h2", {}, "Add a person"),
  h("div", { class: "grid2" },
    h("label", { class: "field" }, h("span", {}, "Name"), h("input", { name: "name", maxlength: 100 })),
    h("label", { class: "field" }, h("span", {}, "User name"), h("input", { name: "username", required: true, maxlength: 64, autocapitalize: "none" })),
    h("label", { class: "field" }, h("span", {}, "Password"), h("input", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" })),
    h("label", { class: "field" }, h("span", {}, "Role"), h("select", { name: "role", class: "select", onchange: (e) => areaBox.classList.toggle("hidden", e.target.value !== "guest") },
      h("option", { value: "member" }, "Member: uses the whole home"), h("option", { value: "admin" }, "Admin: also manages people and devices"), h("option", { value: "guest" }, "Guest: only some rooms")))),
  h("div", { class: "hidden area-box" }, h("span", { class: "muted" }, "Rooms this guest may use"), areaPick),
  h("button", { class: "btn btn-primary" }, "Add person"));
  const areaBox = form.querySelector(".area-box");
  body.replaceChildren(
    h("div", { class: "list" }, users.map((u) => h("div", { class: "list-row", dataset: { user: u.username } },
      h("div", { class: "avatar" }, (u.name || u.username)[0].toUpperCase()),
      h("div", { class: "grow" }, h("div", { class: "strong" }, u.name, u.is_owner ? h("span", { class: "badge" }, "owner") : null),
        h("div", { class: "muted small" }, `@${u.username} · ${u.role}${u.role === "guest" ? " · " + (u.areas.map((a) => store.areas.find((x) => x.id === a)?.name || a).join(", ") || "no rooms") : ""}`)),
      u.is_owner || u.id === store.user.id ? null : h("button", { class: "btn btn-small btn-ghost", "aria-label": `remove ${u.username}`, onclick: async () => {
        if (!(await confirmAction(`Remove ${u.name}?`, "They are signed out everywhere and their tokens stop working.", "Remove"))) return;
        try { await api("DELETE", `/api/users/${u.id}`); people(body); } catch (err) { toast(errorText(err), "error"); }
      } }, "Remove")))),
    form);
}

async function tokens(body) {
  const list = await api("GET", "/api/tokens");
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const t = await api("POST", "/api/tokens", { name: form.elements.name.value });
      await modal("Your new token", h("div", {}, h("p", {}, "Copy it now: it is shown only once."), h("code", { class: "token", tabindex: 0 }, t.token)));
      tokens(body);
    } catch (err) { toast(errorText(err), "error"); }
  } }, h("input", { name: "name", required: true, placeholder: "Token name, e.g. “Kitchen tablet”", maxlength: 100, "aria-label": "token name" }), h("button", { class: "btn btn-primary" }, "Create token"));
  body.replaceChildren(
    h("p", { class: "muted" }, "Long-lived tokens let scripts and apps use the API: send ", h("code", {}, "Authorization: Bearer <token>"), "."),
    form,
    h("div", { class: "list" }, list.length ? list.map((t) => h("div", { class: "list-row" },
      h("div", { class: "grow" }, h("div", { class: "strong" }, t.name), h("div", { class: "muted small" }, `created ${timeAgo(new Date(t.created_at * 1000))} · ${t.last_used ? "used " + timeAgo(new Date(t.last_used * 1000)) : "never used"}`)),
      h("button", { class: "btn btn-small btn-ghost", onclick: async () => {
        if (!(await confirmAction(`Revoke “${t.name}”?`, "Anything using it stops working.", "Revoke"))) return;
        await api("DELETE", `/api/tokens/${t.id}`); tokens(body);
      } }, "Revoke"))) : h("p", { class: "empty" }, "No tokens yet.")));
}

async function rooms(body) {
  await store.reloadRegistry();
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("POST", "/api/areas", { name: form.elements.name.value }); rooms(body); } catch (err) { toast(errorText(err), "error"); }
  } }, h("input", { name: "name", required: true, placeholder: "New room", maxlength: 100, "aria-label": "room name" }), h("button", { class: "btn btn-primary" }, "Add room"));
  body.replaceChildren(form, h("div", { class: "list" }, store.areas.map((a) => {
    const input = h("input", { value: a.name, "aria-label": `${a.name} name`, maxlength: 100 });
    return h("div", { class: "list-row" }, h("form", { class: "grow inline-form", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PATCH", `/api/areas/${a.id}`, { name: input.value }); toast("Room renamed"); } catch (err) { toast(errorText(err), "error"); }
    } }, input, h("button", { class: "btn btn-small" }, "Rename")),
    h("button", { class: "btn btn-small btn-ghost", onclick: async () => {
      if (!(await confirmAction(`Remove ${a.name}?`, "Devices in it become unassigned.", "Remove"))) return;
      await api("DELETE", `/api/areas/${a.id}`); rooms(body);
    } }, "Remove"));
  })));
}

async function devices(body) {
  await store.reloadRegistry();
  body.replaceChildren(h("div", { class: "list" }, store.devices.map((d) => {
    const f = h("form", { class: "device-form", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PATCH", `/api/devices/${d.id}`, { name: f.elements.name.value, area_id: f.elements.area.value }); toast("Saved"); }
      catch (err) { toast(errorText(err), "error"); }
    } },
    h("input", { name: "name", value: d.display_name, "aria-label": "device name", maxlength: 100 }),
    h("select", { name: "area", class: "select", "aria-label": "room" }, h("option", { value: "" }, "No room"), store.areas.map((a) => h("option", { value: a.id, selected: a.id === d.area_id }, a.name))),
    h("button", { class: "btn btn-small" }, "Save"));
    return h("div", { class: "list-row col" }, h("div", { class: "muted small" }, [d.manufacturer, d.model, d.integration].filter(Boolean).join(" · ")), f);
  })));
}

async function phone(body) {
  body.replaceChildren(h("div", { class: "card qr-card" },
    h("img", { src: "/api/qr.svg", alt: "QR code that opens the dashboard", class: "qr", width: 220, height: 220 }),
    h("p", {}, "Scan with your phone's camera to open Hearth."),
    h("p", { class: "muted" }, h("code", {}, store.config?.dashboard_url || location.origin))));
}
