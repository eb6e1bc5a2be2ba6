// The composer under a conversation: the message field (Enter sends), attachments
// (images with the message, other files into the chat's project as `@path`), the `@ File`
// picker, the project, agent and model pickers, and Send / Stop.

import { api, upload } from "./api.js";
import { h, clear, toast } from "./dom.js";

export class Composer {
  constructor(chat) {
    this.chat = chat;
    this.attachments = [];
    this.field = h("textarea", { class: "composer-field", rows: 2, placeholder: "Message the agent… (Enter sends, Shift+Enter for a new line)", "aria-label": "Message" });
    this.field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.files = h("input", { type: "file", multiple: true, class: "visually-hidden", id: "attach" });
    this.files.addEventListener("change", () => this.attach());
    this.tray = h("div", { class: "attachments", "aria-live": "polite" });
    this.sendButton = h("button", { type: "submit", class: "primary send" }, "Send");
    this.stopButton = h("button", { type: "button", class: "danger stop", hidden: true, onclick: () => this.chat.stop() }, "Stop");
    this.agent = h("select", { class: "picker", "aria-label": "Agent" });
    this.model = h("select", { class: "picker", "aria-label": "Model" });
    this.project = h("select", { class: "picker", "aria-label": "Project" });
    this.project.addEventListener("change", () => this.chat.setProject(this.project.value || null));
    this.pickers = h("div", { class: "pickers" }, this.project, this.agent, this.model);
    this.browser = h("div", { class: "file-picker", hidden: true, role: "dialog", "aria-label": "Project files" });
    this.filesButton = h("button", { type: "button", class: "ghost", onclick: () => this.toggleFiles(), "aria-label": "Refer to a project file" }, "@ File");
    this.fillPickers();
    this.element = h(
      "form",
      { class: "composer", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      this.tray,
      this.browser,
      h("div", { class: "composer-row" }, this.filesButton, h("label", { class: "button ghost attach", for: "attach", title: "Attach images" }, "Image"), this.files, this.field, this.sendButton, this.stopButton),
    );
  }

  async fillPickers() {
    const [agents, models, projects] = await Promise.all([
      api("/agents", { query: { limit: 200 } }),
      api("/models").catch(() => ({ data: [] })),
      api("/projects", { query: { limit: 200 } }).catch(() => ({ data: [] })),
    ]);
    clear(this.project, h("option", { value: "" }, "No project"), projects.data.map((p) => h("option", { value: p.id }, p.name)));
    this.project.value = this.chat.session?.project_id || "";
    this.filesButton.hidden = !this.project.value;
    clear(this.agent, agents.data.map((agent) => h("option", { value: agent.name }, agent.name)));
    const session = this.chat.session;
    this.agent.value = session?.agent || "assistant";
    const options = (models.data || models.models || []).map((model) => {
      const id = typeof model === "string" ? model : model.id;
      return h("option", { value: id }, id);
    });
    clear(this.model, h("option", { value: "" }, "Agent's model"), options);
    this.model.value = session?.model || "";
  }

  focus() {
    this.field.focus();
  }

  restore(text) {
    this.field.value = text;
  }

  setRunning(running) {
    this.sendButton.hidden = running;
    this.stopButton.hidden = !running;
  }

  async attach() {
    for (const file of this.files.files) {
      if (!file.type.startsWith("image/")) {
        await this.uploadToProject(file);
        continue;
      }
      const data = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result).split(",")[1]);
        reader.readAsDataURL(file);
      });
      const attachment = { type: "image", data, media_type: file.type };
      this.attachments.push(attachment);
      const chip = h("span", { class: "chip" }, file.name, h("button", { type: "button", class: "ghost small", "aria-label": `Remove ${file.name}`, onclick: () => { this.attachments.splice(this.attachments.indexOf(attachment), 1); chip.remove(); } }, "×"));
      this.tray.append(chip);
    }
    this.files.value = "";
  }

  // Files other than images go into the chat's project, and the message refers to them.
  async uploadToProject(file) {
    const projectId = this.project.value;
    if (!projectId) {
      toast("Pick a project for this chat to attach files other than images.", "error");
      return;
    }
    const form = new FormData();
    form.append("file", file);
    form.append("overwrite", "true");
    try {
      const stored = await upload(`/projects/${projectId}/upload`, form);
      for (const entry of stored.files) this.refer(entry.path || entry.name || file.name);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  refer(path) {
    const gap = this.field.value && !this.field.value.endsWith(" ") ? " " : "";
    this.field.value += `${gap}@${path} `;
    this.field.focus();
  }

  async toggleFiles(path = "") {
    if (!this.browser.hidden && path === "") {
      this.browser.hidden = true;
      return;
    }
    const projectId = this.project.value;
    const tree = await api(`/projects/${projectId}/tree`, { query: { path } });
    const up = path ? path.split("/").slice(0, -1).join("/") : null;
    clear(
      this.browser,
      h("ul", {},
        up !== null ? h("li", {}, h("button", { type: "button", class: "ghost small", onclick: () => this.toggleFiles(up) }, "..")) : null,
        tree.entries.map((entry) => h("li", {}, h("button", { type: "button", class: "ghost small", onclick: () => {
          if (entry.type === "directory") return this.toggleFiles(entry.path);
          this.browser.hidden = true;
          this.refer(entry.path);
        } }, entry.type === "directory" ? `${entry.name}/` : entry.name))),
      ),
    );
    this.browser.hidden = false;
  }

  submit() {
    const content = this.field.value.trim();
    if (!content && !this.attachments.length) return;
    const attachments = this.attachments;
    this.attachments = [];
    this.tray.replaceChildren();
    this.field.value = "";
    this.chat.send(content, attachments, { agent: this.agent.value, model: this.model.value });
  }
}
