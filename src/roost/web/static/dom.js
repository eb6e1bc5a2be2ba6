// Building the page: h("button", {class: "x", onclick}, "Label") makes an element. Text
// children are text nodes, never parsed as HTML: only markdown.js makes HTML, sanitised.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

// A short, readable time: "14:05" today, else "3 Dec".
export function shortTime(iso) {
  const when = new Date(iso);
  const today = new Date();
  if (when.toDateString() === today.toDateString()) {
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  return when.toLocaleDateString([], { day: "numeric", month: "short" });
}

export function announce(text) {
  // For screen readers: the live region says what changed (sent, stopped, failed).
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
}

export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const note = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  box.append(note);
  setTimeout(() => note.remove(), 6000);
}
