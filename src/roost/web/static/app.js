// The web UI's entry: who is signed in, the layout, the theme, and the routes after `#`
// (#/chat/<id>, #/tasks, #/projects/<id>, …), each drawn by its view.

import { api, onSignedOut } from "./api.js";
import { h, clear, toast } from "./dom.js";
import { Live } from "./live.js";
import { Sidebar } from "./sidebar.js";
import { ChatView } from "./chat.js";
import { signIn } from "./sign_in.js";
import { views } from "./views.js";

const THEMES = ["auto", "light", "dark"];

class App {
  constructor() {
    this.root = document.getElementById("app");
    this.live = new Live();
    this.view = null;
    this.applyTheme(localStorage.getItem("roost-theme") || "auto");
  }

  async start() {
    this.features = await api("/features");
    this.me = await api("/me").catch(() => null);
    if (!this.me) return signIn(this, () => this.start());
    onSignedOut(() => location.reload());
    this.sidebar = new Sidebar(this);
    this.main = h("main", { id: "main", class: "main", tabindex: "-1" });
    this.scrim = h("div", { class: "scrim", onclick: () => this.toggleSidebar(false) });
    clear(this.root, this.sidebar.element, this.scrim, this.main);
    this.sidebar.renderNav();
    this.sidebar.refresh();
    this.live.connect();
    this.live.statusListeners.add((status) => document.body.classList.toggle("offline", status === "offline"));
    window.addEventListener("hashchange", () => this.route());
    await this.route();
  }

  async route() {
    this.view?.close?.();
    this.toggleSidebar(false);
    const [section, id, more] = location.hash.replace(/^#\/?/, "").split("/");
    const view = section === "chat" || !section ? new ChatView(this, id || null) : views[section]?.(this, id, more);
    if (!view) {
      clear(this.main, h("p", { class: "empty" }, "Nothing here. ", h("a", { href: "#/" }, "Start a chat")));
      return;
    }
    this.view = view;
    clear(this.main, view.element);
    this.sidebar.markCurrent();
    try {
      await view.load();
      if (this.pendingPrompt && view instanceof ChatView && view.sessionId) {
        const { content, attachments, choice } = this.pendingPrompt;
        this.pendingPrompt = null;
        await view.send(content, attachments, choice);
      }
    } catch (error) {
      toast(error.message, "error");
      if (error.status === 404) clear(this.main, h("p", { class: "empty" }, "Not found. ", h("a", { href: "#/" }, "Start a chat")));
    }
  }

  toggleSidebar(open) {
    const shown = open ?? !document.body.classList.contains("sidebar-open");
    document.body.classList.toggle("sidebar-open", shown);
  }

  applyTheme(theme) {
    this.theme = theme;
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    localStorage.setItem("roost-theme", theme);
  }

  cycleTheme() {
    const next = THEMES[(THEMES.indexOf(this.theme) + 1) % THEMES.length];
    this.applyTheme(next);
    toast(`Theme: ${next}`);
  }

  async signOut() {
    await api("/auth/logout", { method: "POST", body: {} }).catch(() => {});
    location.hash = "#/";
    location.reload();
  }
}

const app = new App();
app.start().catch((error) => {
  clear(app.root, h("p", { class: "empty", role: "alert" }, `Roost could not start: ${error.message}`));
});
