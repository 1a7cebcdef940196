// Onboarding (first visit creates the owner) and sign-in.
import { api, setCsrf } from "../api.js";
import { errorText, h } from "../ui.js";

function field(label, attrs) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", attrs));
}

export function authPage(onboarded, homeName, done, blocked) {
  const error = h("p", { class: "error", role: "alert" });
  const busy = (form, on) => { form.querySelector("button").disabled = on; };
  let form;
  if (!onboarded) {
    form = h("form", { class: "auth-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = form.elements;
      error.textContent = "";
      if (f.password.value !== f.confirm.value) { error.textContent = "The passwords do not match."; return; }
      busy(form, true);
      try {
        const r = await api("POST", "/api/onboarding", { code: f.code.value, username: f.username.value, name: f.name.value, password: f.password.value });
        setCsrf(r.csrf_token); done(r.user);
      } catch (err) { error.textContent = errorText(err); busy(form, false); }
    } },
    h("h1", {}, "Welcome to Hearth"),
    h("p", { class: "muted" }, "Create the owner account for this home. It can add family members and guests later."),
    blocked ? h("p", { class: "error", role: "alert" }, blocked) : null,
    field("Setup code (printed in the hub's log)", { name: "code", required: true, autocomplete: "one-time-code", inputmode: "numeric", maxlength: 20 }),
    field("Your name", { name: "name", autocomplete: "name", maxlength: 100 }),
    field("User name", { name: "username", required: true, autocomplete: "username", maxlength: 64, autocapitalize: "none" }),
    field("Password", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
    field("Repeat password", { name: "confirm", type: "password", required: true, minlength: 8, autocomplete: "new-password" }),
    error, h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Create account"));
  } else {
    form = h("form", { class: "auth-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = form.elements;
      error.textContent = ""; busy(form, true);
      try {
        const r = await api("POST", "/api/auth/login", { username: f.username.value, password: f.password.value });
        setCsrf(r.csrf_token); done(r.user);
      } catch (err) { error.textContent = errorText(err); busy(form, false); }
    } },
    h("h1", {}, homeName || "Hearth"),
    h("p", { class: "muted" }, "Sign in to your home."),
    field("User name", { name: "username", required: true, autocomplete: "username", autocapitalize: "none" }),
    field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password" }),
    error, h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Sign in"));
  }
  return h("main", { class: "auth" }, h("img", { src: "/static/icon.svg", alt: "", width: 56, height: 56, class: "auth-logo" }), form);
}
