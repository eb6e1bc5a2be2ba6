// Tasks: start one, watch its plan move live, read its log and download its artifacts;
// the diff of its changes is shown as a diff.

import { api } from "./api.js";
import { h, clear, shortTime, toast } from "./dom.js";
import { renderDiff } from "./markdown.js";

const RUNNING = new Set(["queued", "running", "waiting"]);

export class TaskList {
  constructor(app) {
    this.app = app;
    this.rows = h("ul", { class: "cards" });
    this.description = h("textarea", { id: "task-description", rows: 3, required: true });
    this.project = h("select", { id: "task-project" });
    this.element = h(
      "section",
      { class: "page", "aria-labelledby": "tasks-title" },
      h("h1", { id: "tasks-title" }, "Tasks"),
      h("form", { class: "panel", onsubmit: (event) => this.create(event) },
        h("label", { for: "task-description" }, "What should the agent do?"),
        this.description,
        h("label", { for: "task-project" }, "In project"),
        this.project,
        h("button", { type: "submit", class: "primary" }, "Start task"),
      ),
      this.rows,
    );
    this.unlisten = app.live.on("tasks", () => this.refresh());
  }

  close() {
    this.unlisten();
  }

  async load() {
    const projects = await api("/projects", { query: { limit: 200 } });
    clear(this.project, h("option", { value: "" }, "No project"), projects.data.map((p) => h("option", { value: p.id }, p.name)));
    await this.refresh();
  }

  async refresh() {
    const tasks = await api("/tasks", { query: { limit: 100 } });
    clear(
      this.rows,
      tasks.data.length
        ? tasks.data.map((task) => h("li", { class: "card" }, h("a", { href: `#/tasks/${task.id}` }, task.name), h("span", { class: `badge status-${task.status}` }, task.status), h("span", { class: "muted" }, shortTime(task.created_at))))
        : h("li", { class: "muted" }, "No tasks yet."),
    );
  }

  async create(event) {
    event.preventDefault();
    try {
      const task = await api("/tasks", { method: "POST", body: { description: this.description.value, project_id: this.project.value || undefined } });
      location.hash = `#/tasks/${task.id}`;
    } catch (error) {
      toast(error.message, "error");
    }
  }
}

export class TaskDetail {
  constructor(app, taskId) {
    this.app = app;
    this.taskId = taskId;
    this.heading = h("h1", {}, "Task");
    this.status = h("p", { class: "task-status", role: "status" });
    this.plan = h("ol", { class: "plan", "aria-label": "Plan" });
    this.artifacts = h("ul", { class: "artifacts" });
    this.diff = h("div", { class: "diff-view" });
    this.controls = h("div", { class: "input-buttons" });
    this.element = h(
      "section",
      { class: "page" },
      h("a", { href: "#/tasks", class: "back" }, "← Tasks"),
      this.heading,
      this.status,
      this.controls,
      h("h2", {}, "Plan"),
      this.plan,
      h("h2", {}, "Artifacts"),
      this.artifacts,
      h("h2", {}, "Changes"),
      this.diff,
    );
    this.unlisten = app.live.on("tasks", (frame) => {
      if (frame.task_id !== this.taskId) return;
      if (frame.type === "plan_update") this.showPlan(frame.plan);
      else this.load();
    });
  }

  close() {
    this.unlisten();
  }

  async load() {
    const task = await api(`/tasks/${this.taskId}`);
    this.task = task;
    this.heading.textContent = task.name;
    const summary = task.result?.summary ? ` — ${task.result.summary}` : "";
    this.status.textContent = `Status: ${task.status}${summary}`;
    this.status.className = `task-status status-${task.status}`;
    this.showPlan(task.plan);
    clear(
      this.controls,
      RUNNING.has(task.status)
        ? h("button", { type: "button", class: "danger", onclick: () => this.act("stop") }, "Stop")
        : h("button", { type: "button", onclick: () => this.act("start") }, task.status === "pending" ? "Start" : "Run again"),
      task.session_id ? h("a", { href: `#/chat/${task.session_id}`, class: "button ghost" }, "Open its chat") : null,
    );
    const artifacts = task.status === "pending" ? { data: [] } : await api(`/tasks/${this.taskId}/artifacts`);
    clear(
      this.artifacts,
      artifacts.data.map((artifact) =>
        h("li", {}, h("a", { href: `/api/tasks/${this.taskId}/artifacts/${encodeURIComponent(artifact.id)}`, download: artifact.name }, artifact.name), h("span", { class: "muted" }, ` ${artifact.type}, ${artifact.size} bytes`)),
      ),
    );
    const patch = artifacts.data.find((artifact) => artifact.type === "diff");
    if (patch) {
      const response = await api(`/tasks/${this.taskId}/artifacts/${encodeURIComponent(patch.id)}`, { raw: true });
      const text = await response.text();
      clear(this.diff, text.trim() ? renderDiff(text) : h("p", { class: "muted" }, "No changes."));
    } else {
      clear(this.diff, h("p", { class: "muted" }, "No changes yet."));
    }
  }

  showPlan(plan) {
    const steps = plan?.steps || [];
    const done = steps.filter((step) => step.status === "completed").length;
    clear(
      this.plan,
      steps.length
        ? steps.map((step) => h("li", { class: `step step-${step.status}` }, h("span", { class: "step-mark", "aria-hidden": "true" }, { completed: "✓", in_progress: "…", skipped: "–" }[step.status] || "○"), step.description, h("span", { class: "visually-hidden" }, ` (${step.status.replace("_", " ")})`)))
        : h("li", { class: "muted" }, "No plan yet."),
    );
    this.plan.setAttribute("aria-label", `Plan: ${done} of ${steps.length} steps done`);
  }

  async act(action) {
    try {
      await api(`/tasks/${this.taskId}/${action}`, { method: "POST", body: {} });
      await this.load();
    } catch (error) {
      toast(error.message, "error");
    }
  }
}
