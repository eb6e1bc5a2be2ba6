// The sidebar: navigation, the user's chats grouped by day (pinned first), folders,
// archived chats, and search over titles and messages. It follows changes made anywhere
// (the WebSocket's sessions channel).

import { api } from "./api.js";
import { h, clear, toast } from "./dom.js";
import DOMPurify from "./vendor/purify.es.mjs";

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export class Sidebar {
  constructor(app) {
    this.app = app;
    this.filter = { archived: false, folder: null };
    this.search = h("input", { type: "search", class: "search", placeholder: "Search chats", "aria-label": "Search chats and messages" });
    this.search.addEventListener("input", () => this.debounce(() => this.refresh(), 250));
    this.list = h("nav", { class: "session-list", "aria-label": "Chats" });
    this.nav = h("nav", { class: "main-nav", "aria-label": "Sections" });
    this.element = h(
      "aside",
      { class: "sidebar", id: "sidebar" },
      h("div", { class: "brand" }, h("a", { href: "#/", class: "brand-name" }, "Roost"), h("a", { href: "#/", class: "button primary new-chat" }, "New chat")),
      this.search,
      this.list,
      this.nav,
    );
    // A chat is listed once it has a message: history changes bring it in too.
    for (const channel of ["sessions", "hstry"]) app.live.on(channel, () => this.debounce(() => this.refresh(), 300));
  }

  debounce(step, ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(step, ms);
  }

  renderNav() {
    const links = [
      ["#/tasks", "Tasks"],
      ["#/projects", "Projects"],
      ["#/agents", "Agents"],
      ["#/evals", "Evaluations"],
      ["#/memories", "Memories"],
      ["#/settings", "Settings"],
    ];
    if (this.app.me?.is_admin && this.app.features?.auth) links.push(["#/admin", "Admin"]);
    clear(
      this.nav,
      links.map(([href, label]) => h("a", { href, class: "nav-link" }, label)),
      h("button", { type: "button", class: "ghost theme", onclick: () => this.app.cycleTheme(), "aria-label": "Switch theme" }, "Theme"),
      this.app.features?.auth ? h("button", { type: "button", class: "ghost", onclick: () => this.app.signOut() }, "Sign out") : null,
    );
  }

  async refresh() {
    const query = this.search.value.trim();
    try {
      if (query) return await this.showSearch(query);
      const filtered = this.filter.folder || this.filter.archived;
      const folders = await api("/folders", { query: { limit: 100 } }).catch(() => ({ data: [] }));
      const sections = [];
      let count = 0;
      if (filtered) {
        // A folder's chats, or the archived ones: one list.
        const label = this.filter.folder ? `Folder: ${this.filter.folder}` : "Archived";
        const query = this.filter.folder ? { folder: this.filter.folder, archived: false } : { archived: true };
        const listed = await api("/sessions", { query: { ...query, limit: 200 } });
        count = listed.data.length;
        sections.push(h("button", { type: "button", class: "ghost back", onclick: () => this.show({ archived: false, folder: null }) }, `← ${label}`));
        if (count) sections.push(this.section(label, listed.data));
      } else {
        const grouped = await api("/sessions/grouped", { query: { tz: ZONE, limit: 100 } });
        const live = (group) => group.sessions.filter((session) => !session.archived);
        const pinned = grouped.groups.flatMap((group) => live(group).filter((session) => session.pinned));
        if (pinned.length) sections.push(this.section("Pinned", pinned));
        for (const group of grouped.groups) {
          const rest = live(group).filter((session) => !session.pinned);
          if (rest.length) sections.push(this.section(group.label, rest));
          count += live(group).length;
        }
      }
      if (!this.filter.folder && !this.filter.archived) {
        const names = folders.data || [];
        if (names.length) {
          sections.push(h("h2", { class: "group" }, "Folders"), h("ul", {}, names.map((name) => h("li", {}, h("button", { type: "button", class: "ghost folder", onclick: () => this.show({ archived: false, folder: name }) }, name)))));
        }
        sections.push(h("button", { type: "button", class: "ghost archived-link", onclick: () => this.show({ archived: true, folder: null }) }, "Archived chats"));
      }
      if (!count) sections.splice(filtered ? 1 : 0, 0, h("p", { class: "muted" }, "No chats here yet."));
      clear(this.list, sections);
      this.markCurrent();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  show(filter) {
    this.filter = filter;
    this.refresh();
  }

  section(label, sessions) {
    return [h("h2", { class: "group" }, label), h("ul", {}, sessions.map((session) => this.item(session)))];
  }

  item(session) {
    const menu = h("details", { class: "item-menu" }, h("summary", { "aria-label": `Actions for ${session.display_title}` }, "⋯"), h("div", { class: "menu" },
      h("button", { type: "button", onclick: () => this.change(session, { pinned: !session.pinned }) }, session.pinned ? "Unpin" : "Pin"),
      h("button", { type: "button", onclick: () => this.change(session, { archived: !session.archived }) }, session.archived ? "Unarchive" : "Archive"),
      h("button", { type: "button", onclick: () => { const folder = prompt("Folder (empty for none)", session.folder || ""); if (folder !== null) this.change(session, { folder: folder || null }); } }, "Move to folder"),
      h("button", { type: "button", class: "danger", onclick: () => this.remove(session) }, "Delete"),
    ));
    return h("li", { class: "session-item", dataset: { sessionId: session.id } },
      h("a", { href: `#/chat/${session.id}`, class: "session-link" }, session.status === "running" ? "● " : "", session.display_title),
      menu,
    );
  }

  async change(session, fields) {
    await api(`/sessions/${session.id}`, { method: "PATCH", body: fields }).catch((error) => toast(error.message, "error"));
    this.refresh();
  }

  async remove(session) {
    if (!confirm(`Delete “${session.display_title}”? This cannot be undone.`)) return;
    await api(`/sessions/${session.id}`, { method: "DELETE" });
    if (location.hash === `#/chat/${session.id}`) location.hash = "#/";
    this.refresh();
  }

  async showSearch(query) {
    const [titles, found] = await Promise.all([
      api("/sessions", { query: { q: query, limit: 20 } }),
      api("/search", { query: { q: query, limit: 20 } }).catch(() => ({ results: [] })),
    ]);
    const results = found.results.map((result) => {
      const snippet = h("span", { class: "snippet" });
      snippet.innerHTML = DOMPurify.sanitize(result.snippet, { ALLOWED_TAGS: ["mark"] });
      return h("li", {}, h("a", { href: `#/chat/${result.session_id}`, class: "search-result" }, h("strong", {}, result.session_title || "Chat"), snippet));
    });
    clear(
      this.list,
      titles.data.length ? this.section("Titles", titles.data) : null,
      h("h2", { class: "group" }, "Messages"),
      results.length ? h("ul", {}, results) : h("p", { class: "muted" }, "No message matches."),
    );
  }

  markCurrent() {
    for (const link of this.element.querySelectorAll(".session-link, .nav-link")) {
      const current = link.getAttribute("href") === location.hash;
      link.classList.toggle("current", current);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
}
