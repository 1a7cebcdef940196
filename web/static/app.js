// The app shell: sign-in flow, navigation, notifications, and the hash router.
import { ApiError, api, live, setCsrf, store } from "./api.js";
import "./cards.js";
import { authPage } from "./pages/auth.js";
import { homePage } from "./pages/home.js";
import { pairingPage } from "./pages/pairing.js";
import { rulesPage } from "./pages/rules.js";
import { settingsPage } from "./pages/settings.js";
import { voicePage } from "./pages/voice.js";
import { errorText, h, icon, timeAgo, toast } from "./ui.js";

const app = document.getElementById("app");
const NAV = [
  { path: "", label: "Home", icon: "home", roles: ["admin", "member", "guest"] },
  { path: "voice", label: "Voice", icon: "mic", roles: ["admin", "member"] },
  { path: "rules", label: "Rules", icon: "rules", roles: ["admin", "member"] },
  { path: "pair", label: "Add", icon: "plus", roles: ["admin"] },
  { path: "settings", label: "Settings", icon: "gear", roles: ["admin", "member", "guest"] },
];

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [head, arg] = parts;
  switch (head) {
    case "room": return { key: "", page: () => homePage({ room: arg }) };
    case "voice": return { key: "voice", page: voicePage };
    case "rules": return { key: "rules", page: () => rulesPage({ id: arg }) };
    case "pair": return { key: "pair", page: pairingPage };
    case "settings": return { key: "settings", page: () => settingsPage({ tab: arg }) };
    default: return { key: "", page: () => homePage({}) };
  }
}

async function boot() {
  let status;
  try { status = await api("GET", "/api/onboarding"); }
  catch (err) { app.replaceChildren(h("p", { class: "error page" }, `The hub is not answering: ${errorText(err)}`)); return; }
  document.title = status.name || "Hearth";
  if (!status.onboarded) return showAuth(false, status.name, status.blocked);
  try {
    const me = await api("GET", "/api/auth/me");
    setCsrf(me.csrf_token);
    store.user = me.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showAuth(true, status.name);
    throw err;
  }
  await start();
}

function showAuth(onboarded, name, blocked) {
  app.replaceChildren(authPage(onboarded, name, (user) => { store.user = user; start(); }, blocked));
}

async function start() {
  await store.load();
  live.start();
  shell();
}

let current = null;
function shell() {
  const main = h("div", { class: "content" });
  const dot = h("span", { class: "conn", title: "Live" });
  const badge = h("span", { class: "badge-count hidden" });
  const drawer = h("aside", { class: "drawer hidden", "aria-label": "Notifications" });
  const nav = h("nav", { class: "nav", "aria-label": "Main" }, NAV.filter((n) => n.roles.includes(store.user.role)).map((n) =>
    h("a", { href: `#/${n.path}`, dataset: { key: n.path } }, icon(n.icon), h("span", {}, n.label))));
  const header = h("header", { class: "topbar" },
    h("a", { class: "brand", href: "#/" }, h("img", { src: "/static/icon.svg", alt: "", width: 28, height: 28 }), h("span", {}, store.config?.name || "Hearth")),
    dot,
    h("button", { class: "icon-btn", "aria-label": "Notifications", onclick: () => { drawer.classList.toggle("hidden"); renderDrawer(); } }, icon("bell"), badge),
    h("button", { class: "icon-btn signout", "aria-label": "Sign out", title: `Signed in as ${store.user.name}`, onclick: signOut },
      h("span", { class: "avatar small" }, (store.user.name || "?")[0].toUpperCase())));
  app.replaceChildren(header, h("div", { class: "layout" }, nav, main), drawer);

  function renderDrawer() {
    const notes = [...store.notifications.values()].reverse();
    badge.textContent = notes.length;
    badge.classList.toggle("hidden", notes.length === 0);
    drawer.replaceChildren(h("div", { class: "drawer-head" }, h("h2", {}, "Notifications"), h("button", { class: "icon-btn", "aria-label": "Close", onclick: () => drawer.classList.add("hidden") }, icon("x"))),
      ...(notes.length ? notes.map((n) => h("div", { class: "note" },
        h("div", { class: "grow" }, n.title ? h("div", { class: "strong" }, n.title) : null, h("div", {}, n.message), h("div", { class: "muted small" }, timeAgo(new Date(n.created * 1000)))),
        store.user.role !== "guest" ? h("button", { class: "icon-btn", "aria-label": "Dismiss", onclick: () => api("DELETE", `/api/notifications/${n.id}`).catch((e) => toast(errorText(e), "error")) }, icon("x")) : null))
        : [h("p", { class: "muted empty" }, "Nothing new.")]));
  }
  const navigate = () => {
    current?.cleanup?.();
    const r = route();
    for (const a of nav.querySelectorAll("a")) a.classList.toggle("on", a.dataset.key === r.key);
    current = r.page();
    main.replaceChildren(current);
    window.scrollTo(0, 0);
  };
  store.addEventListener("notifications", renderDrawer);
  store.addEventListener("connection", () => dot.classList.toggle("off", !store.connected));
  store.addEventListener("signed-out", () => { toast("Signed out"); setTimeout(() => location.reload(), 800); });
  window.addEventListener("hashchange", navigate);
  renderDrawer();
  navigate();
}

async function signOut() {
  try { await api("POST", "/api/auth/logout"); } catch { /* signed out anyway */ }
  live.stop();
  location.hash = "#/";
  location.reload();
}

boot().catch((err) => app.replaceChildren(h("p", { class: "error page" }, errorText(err))));
