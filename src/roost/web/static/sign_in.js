// Signing in (and registering, where the server allows it). In local mode nobody signs
// in: the page opens straight on the chats.

import { api } from "./api.js";
import { h, clear } from "./dom.js";

export function signIn(app, done) {
  const registering = { value: false };
  const email = h("input", { type: "email", id: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true, minlength: 1 });
  const name = h("input", { type: "text", id: "name", autocomplete: "name" });
  const invite = h("input", { type: "text", id: "invite" });
  const error = h("p", { class: "form-error", role: "alert" });
  const extra = h("div", { hidden: true }, field("Name", name), app.features.registration === "invite" ? field("Invite code", invite) : null);
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const canRegister = app.features.registration !== "closed";
  const toggle = canRegister
    ? h("button", { type: "button", class: "ghost", onclick: () => {
        registering.value = !registering.value;
        extra.hidden = !registering.value;
        submit.textContent = registering.value ? "Create account" : "Sign in";
        toggle.textContent = registering.value ? "I have an account" : "Create an account";
        password.autocomplete = registering.value ? "new-password" : "current-password";
      } }, "Create an account")
    : null;
  const form = h(
    "form",
    { class: "sign-in", "aria-labelledby": "sign-in-title", onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        if (registering.value) {
          await api("/auth/register", { method: "POST", body: { email: email.value, password: password.value, name: name.value || undefined, invite_code: invite.value || undefined } });
        }
        await api("/auth/login", { method: "POST", body: { email: email.value, password: password.value } });
        done();
      } catch (failure) {
        error.textContent = failure.message;
        submit.disabled = false;
      }
    } },
    h("h1", { id: "sign-in-title" }, "Sign in to Roost"),
    field("Email", email),
    field("Password", password),
    extra,
    error,
    h("div", { class: "input-buttons" }, submit, toggle),
  );
  clear(app.root, h("main", { id: "main", class: "centered" }, form));
  email.focus();
}

function field(label, input) {
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input);
}
