// The pages besides chat: each is {element, load(), close?()} for a route after `#`.

import { api } from "./api.js";
import { h, clear, shortTime, toast } from "./dom.js";
import { TaskDetail, TaskList } from "./tasks.js";

export const views = {
  tasks: (app, id) => (id ? new TaskDetail(app, id) : new TaskList(app)),
  projects: (app, id) => new ProjectsPage(app, id),
  agents: () => new AgentsPage(),
  evals: (app, testset, run) => new EvaluationsPage(testset, run),
  memories: () => new MemoriesPage(),
  settings: (app) => new SettingsPage(app),
  admin: () => new AdminPage(),
};

// A titled page whose body `load` draws.
class Page {
  constructor(title) {
    this.body = h("div", { class: "page-body" });
    this.element = h("section", { class: "page", "aria-label": title }, h("h1", {}, title), this.body);
  }

  async guarded(step) {
    try {
      await step();
    } catch (error) {
      toast(error.message, "error");
    }
  }
}

function table(caption, columns, rows) {
  return h(
    "table",
    { class: "table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows.length ? rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row))))) : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "None yet."))),
  );
}

function form(fields, submitLabel, onSubmit) {
  const inputs = {};
  const element = h(
    "form",
    { class: "panel", onsubmit: async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
      try {
        await onSubmit(values);
        element.reset();
      } catch (error) {
        toast(error.message, "error");
      }
    } },
    fields.map(([name, label, type = "text", required = false]) => {
      const id = `field-${name}`;
      inputs[name] = type === "textarea" ? h("textarea", { id, rows: 3, required }) : h("input", { id, type, required });
      return h("div", { class: "field" }, h("label", { for: id }, label), inputs[name]);
    }),
    h("button", { type: "submit", class: "primary" }, submitLabel),
  );
  return element;
}

class ProjectsPage extends Page {
  constructor(app, projectId) {
    super("Projects");
    this.projectId = projectId;
  }

  async load() {
    if (this.projectId) return this.browse(this.projectId, "");
    const projects = await api("/projects", { query: { limit: 200 } });
    clear(
      this.body,
      form([["name", "Name", "text", true], ["description", "Description"]], "Create project", async (values) => {
        await api("/projects", { method: "POST", body: values });
        await this.load();
      }),
      table("Your projects", [["Name", (p) => h("a", { href: `#/projects/${p.id}` }, p.name)], ["Folder", (p) => p.path || p.working_directory || ""], ["Updated", (p) => shortTime(p.updated_at)]], projects.data),
    );
  }

  // The project's files: folders to open, text files to read.
  async browse(projectId, path) {
    const [project, tree] = await Promise.all([api(`/projects/${projectId}`), api(`/projects/${projectId}/tree`, { query: { path } })]);
    const viewer = h("pre", { class: "file-view", tabindex: "0", "aria-label": "File contents" });
    const up = path ? path.split("/").slice(0, -1).join("/") : null;
    clear(
      this.body,
      h("a", { href: "#/projects", class: "back" }, "← Projects"),
      h("h2", {}, project.name, path ? ` / ${path}` : ""),
      h("ul", { class: "file-tree" },
        up !== null ? h("li", {}, h("button", { type: "button", class: "ghost", onclick: () => this.browse(projectId, up) }, "..")) : null,
        tree.entries.map((entry) => h("li", {}, h("button", { type: "button", class: "ghost", onclick: () => (entry.type === "directory" ? this.browse(projectId, entry.path) : this.open(projectId, entry, viewer)) }, entry.type === "directory" ? `${entry.name}/` : entry.name))),
      ),
      viewer,
    );
  }

  async open(projectId, entry, viewer) {
    await this.guarded(async () => {
      const file = await api(`/projects/${projectId}/file`, { query: { path: entry.path } });
      viewer.textContent = file.content;
    });
  }
}

class AgentsPage extends Page {
  constructor() {
    super("Agents");
  }

  async load() {
    const agents = await api("/agents", { query: { limit: 200 } });
    this.editor = h("div");
    clear(
      this.body,
      form([["name", "Name", "text", true], ["description", "Description"], ["model", "Model (provider/model)"], ["preamble", "Instructions", "textarea"]], "Create agent", async (values) => {
        const body = Object.fromEntries(Object.entries(values).filter(([, value]) => value));
        await api("/agents", { method: "POST", body });
        await this.load();
      }),
      this.editor,
      table("Agents", [
        ["Name", (a) => a.name],
        ["Description", (a) => a.description || ""],
        ["Model", (a) => a.model || "default"],
        ["Version", (a) => String(a.version)],
        ["", (a) => (a.shared ? "server's" : [
          h("button", { type: "button", class: "ghost small", onclick: () => this.edit(a) }, "Edit"),
          h("button", { type: "button", class: "ghost small danger", onclick: () => this.remove(a) }, "Delete"),
        ])],
      ], agents.data),
    );
  }

  // A new version of the agent with the fields changed.
  edit(agent) {
    const fields = {
      description: h("input", { id: "edit-description", value: agent.description || "" }),
      model: h("input", { id: "edit-model", value: agent.model || "" }),
      preamble: h("textarea", { id: "edit-preamble", rows: 4 }),
    };
    fields.preamble.value = agent.preamble || "";
    clear(this.editor, h("form", { class: "panel", "aria-label": `Edit ${agent.name}`, onsubmit: (event) => { event.preventDefault(); this.guarded(async () => {
      const body = Object.fromEntries(Object.entries(fields).map(([name, input]) => [name, input.value || null]));
      await api(`/agents/${agent.id}`, { method: "PATCH", body });
      toast(`${agent.name} saved as a new version`);
      await this.load();
    }); } },
      h("h2", {}, `Edit ${agent.name}`),
      Object.entries(fields).map(([name, input]) => h("div", { class: "field" }, h("label", { for: input.id }, name[0].toUpperCase() + name.slice(1)), input)),
      h("div", { class: "input-buttons" }, h("button", { type: "submit", class: "primary" }, "Save"), h("button", { type: "button", onclick: () => this.editor.replaceChildren() }, "Cancel")),
    ));
    fields.description.focus();
  }

  async remove(agent) {
    if (!confirm(`Delete the agent “${agent.name}” and its versions?`)) return;
    await this.guarded(async () => {
      await api(`/agents/${agent.id}`, { method: "DELETE" });
      await this.load();
    });
  }
}

class EvaluationsPage extends Page {
  close() {
    clearTimeout(this.timer);
  }

  constructor(testsetId, runId) {
    super("Evaluations");
    this.testsetId = testsetId;
    this.runId = runId;
  }

  async load() {
    if (this.runId) return this.report();
    if (this.testsetId) return this.runs();
    const sets = await api("/testsets", { query: { limit: 200 } });
    clear(this.body, table("Test sets", [["Name", (s) => h("a", { href: `#/evals/${s.id}` }, s.name)], ["Cases", (s) => String(s.case_count ?? "")], ["Updated", (s) => shortTime(s.updated_at || s.created_at)]], sets.data));
  }

  async runs() {
    const [runs, agents] = await Promise.all([
      api(`/testsets/${this.testsetId}/runs`, { query: { limit: 100 } }),
      api("/agents", { query: { limit: 200 } }),
    ]);
    const choices = agents.data.map((agent) => h("label", { class: "choice" }, h("input", { type: "checkbox", value: agent.id, dataset: { name: agent.name } }), ` ${agent.name}`));
    const start = h("form", { class: "panel", "aria-label": "Start a run", onsubmit: (event) => { event.preventDefault(); this.guarded(async () => {
      const picked = [...start.querySelectorAll("input:checked")].map((box) => ({ name: box.dataset.name, agent_id: box.value }));
      const run = await api(`/testsets/${this.testsetId}/runs`, { method: "POST", body: { configurations: picked } });
      location.hash = `#/evals/${this.testsetId}/${run.id}`;
    }); } },
      h("h2", {}, "Run against agents"),
      h("fieldset", {}, h("legend", {}, "Configurations"), choices),
      h("button", { type: "submit", class: "primary" }, "Start run"),
    );
    clear(
      this.body,
      h("a", { href: "#/evals", class: "back" }, "← Test sets"),
      start,
      table("Runs", [["Run", (r) => h("a", { href: `#/evals/${this.testsetId}/${r.id}` }, shortTime(r.created_at))], ["Status", (r) => r.status], ["Progress", (r) => `${r.done}/${r.total}`]], runs.data),
    );
  }

  // The side-by-side table: each case against each configuration.
  async report() {
    const report = await api(`/testsets/${this.testsetId}/runs/${this.runId}/report`);
    if (report.status === "queued" || report.status === "running") {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.guarded(() => this.report()), 1000);  // until it ends
    }
    const names = report.configurations.map((c) => (typeof c === "string" ? c : c.name));
    const columns = [
      ["Case", (c) => c.input],
      ...names.map((name) => [name, (c) => h("span", { class: c.passed[name] ? "pass" : "fail" }, c.passed[name] ? "pass" : "fail")]),
    ];
    const disagreements = table("Where they disagree", [["Case", (d) => d.case_id], ["Passed in", (d) => d.passed_in.join(", ")], ["Failed in", (d) => d.failed_in.join(", ")]], report.disagreements || []);
    clear(this.body, h("a", { href: `#/evals/${this.testsetId}`, class: "back" }, "← Runs"), h("p", {}, `Status: ${report.status}`), table("Side by side", columns, report.cases), disagreements);
  }
}

class MemoriesPage extends Page {
  constructor() {
    super("Memories");
  }

  async load() {
    const memories = await api("/memories", { query: { limit: 200 } });
    clear(
      this.body,
      form([["content", "Remember", "textarea", true]], "Add memory", async (values) => {
        await api("/memories", { method: "POST", body: values });
        await this.load();
      }),
      table("Your memories", [["Memory", (m) => m.content], ["Source", (m) => m.source], ["", (m) => h("button", { type: "button", class: "ghost danger", onclick: () => this.guarded(async () => { await api(`/memories/${m.id}`, { method: "DELETE" }); await this.load(); }) }, "Forget")]], memories.data),
    );
  }
}

class SettingsPage extends Page {
  constructor(app) {
    super("Settings");
    this.app = app;
  }

  async load() {
    const [settings, providers, skills, servers, jobs] = await Promise.all([
      api("/settings"),
      api("/providers").catch(() => ({ providers: [] })),
      api("/skills", { query: { limit: 200 } }).catch(() => ({ data: [] })),
      api("/mcp/servers", { query: { limit: 200 } }).catch(() => ({ data: [] })),
      api("/scheduler/jobs", { query: { limit: 200 } }).catch(() => ({ data: [] })),
    ]);
    const admin = Boolean(this.app.me?.is_admin);
    clear(
      this.body,
      this.modelForm(settings),
      table("Providers", [["Provider", (p) => p.name || p.id], ["Configured", (p) => (p.configured ? "yes" : "no")], ["Models", (p) => String(p.models_count ?? "")], ["Address", (p) => p.base_url || ""]], providers.providers || []),
      table("Skills", [["Name", (s) => s.name], ["Active", (s) => h("button", { type: "button", class: "ghost", "aria-pressed": String(Boolean(s.active)), onclick: () => this.guarded(async () => { await api(`/skills/${s.id}/${s.active ? "deactivate" : "activate"}`, { method: "POST", body: {} }); await this.load(); }) }, s.active ? "On" : "Off")]], skills.data),
      table("MCP servers", [["Name", (s) => s.name], ["Transport", (s) => s.transport || ""], ["Status", (s) => s.status || ""], ["", (s) => (admin ? h("button", { type: "button", class: "ghost small danger", onclick: () => this.guarded(async () => { if (!confirm(`Remove the MCP server ${s.name}?`)) return; await api(`/mcp/servers/${s.id}`, { method: "DELETE" }); await this.load(); }) }, "Remove") : "")]], servers.data),
      admin
        ? form([["mcp-name", "Server name", "text", true], ["mcp-command", "Command (stdio)"], ["mcp-url", "URL (streamable HTTP)"]], "Add MCP server", async (values) => {
            const body = { name: values["mcp-name"] };
            if (values["mcp-url"]) Object.assign(body, { transport: "http", url: values["mcp-url"] });
            else Object.assign(body, { transport: "stdio", command: values["mcp-command"] });
            await api("/mcp/servers", { method: "POST", body });
            await this.load();
          })
        : null,
      table("Schedules", [["Name", (j) => j.name], ["When", (j) => j.schedule || (j.interval_seconds ? `every ${j.interval_seconds} s` : "")], ["Next", (j) => (j.next_run_at ? shortTime(j.next_run_at) : "")], ["Last", (j) => j.last_status || ""], ["", (j) => [
        h("button", { type: "button", class: "ghost small", onclick: () => this.guarded(async () => { await api(`/scheduler/jobs/${encodeURIComponent(j.name)}/run`, { method: "POST", body: {} }); toast(`${j.name} started`); await this.load(); }) }, "Run now"),
        h("button", { type: "button", class: "ghost small danger", onclick: () => this.guarded(async () => { if (!confirm(`Delete the schedule ${j.name}?`)) return; await api(`/scheduler/jobs/${encodeURIComponent(j.name)}`, { method: "DELETE" }); await this.load(); }) }, "Delete"),
      ]]], jobs.data || []),
      form([["job-name", "Schedule name", "text", true], ["job-cron", "Cron (e.g. 0 9 * * 1-5)", "text", true], ["job-prompt", "Prompt", "textarea", true]], "Add schedule", async (values) => {
        const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
        await api("/scheduler/jobs", { method: "POST", body: { name: values["job-name"], schedule: values["job-cron"], prompt: values["job-prompt"], timezone } });
        await this.load();
      }),
    );
  }

  modelForm(settings) {
    const provider = h("input", { id: "set-provider", value: settings.provider || "" });
    const model = h("input", { id: "set-model", value: settings.model || "" });
    const key = h("input", { id: "set-key", type: "password", autocomplete: "off", placeholder: settings.has_api_key ? settings.api_key_preview : "" });
    const prompt = h("textarea", { id: "set-prompt", rows: 3 });
    prompt.value = settings.system_prompt || "";
    return h("form", { class: "panel", "aria-label": "Model and key", onsubmit: (event) => { event.preventDefault(); this.guarded(async () => {
      const body = { provider: provider.value, model: model.value, system_prompt: prompt.value };
      if (key.value) body.api_key = key.value;
      await api("/settings", { method: "PATCH", body });
      toast("Saved");
      await this.load();
    }); } },
      h("h2", {}, "Model and key"),
      h("div", { class: "field" }, h("label", { for: "set-provider" }, "Provider"), provider),
      h("div", { class: "field" }, h("label", { for: "set-model" }, "Default model"), model),
      h("div", { class: "field" }, h("label", { for: "set-key" }, "API key"), key),
      h("div", { class: "field" }, h("label", { for: "set-prompt" }, "Your system prompt"), prompt),
      h("button", { type: "submit", class: "primary" }, "Save"),
    );
  }
}

class AdminPage extends Page {
  constructor() {
    super("Admin");
  }

  async load() {
    const [users, stats, invites] = await Promise.all([
      api("/admin/users", { query: { limit: 200 } }),
      api("/admin/users/stats"),
      api("/admin/invite-codes", { query: { limit: 200 } }),
    ]);
    clear(
      this.body,
      h("p", {}, `${stats.total} users, ${stats.active} active, ${stats.admins} admins.`),
      table("Users", [["Email", (u) => u.email || "(local owner)"], ["Name", (u) => u.name || ""], ["Admin", (u) => (u.is_admin ? "yes" : "no")], ["Active", (u) => h("button", { type: "button", class: "ghost", disabled: u.local, onclick: () => this.guarded(async () => { await api(`/admin/users/${u.id}`, { method: "PUT", body: { is_active: !u.is_active } }); await this.load(); }) }, u.is_active ? "active" : "inactive")]], users.data),
      form([["note", "Note"]], "Create invite code", async (values) => {
        await api("/admin/invite-codes", { method: "POST", body: values });
        await this.load();
      }),
      table("Invite codes", [["Code", (c) => h("code", {}, c.code)], ["Note", (c) => c.note || ""], ["Uses", (c) => `${c.uses}/${c.max_uses ?? "∞"}`], ["Status", (c) => c.status]], invites.data),
    );
  }
}
