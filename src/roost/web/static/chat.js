// A session on screen: its history, the live turn, and the composer. Events come from the
// page's WebSocket (live.js) in order and are handled one after another, so a reply from
// another tab, a regenerate or an edit lands where it belongs.

import { api, all } from "./api.js";
import { Composer } from "./composer.js";
import { h, clear, announce, toast } from "./dom.js";
import { TurnBlock, userMessage } from "./turn_view.js";

const ACTIVE = new Set(["queued", "running", "waiting"]);

export class ChatView {
  constructor(app, sessionId) {
    this.app = app;
    this.sessionId = sessionId;
    this.blocks = new Map(); // turn id -> TurnBlock
    this.running = null; // the turn id that runs now
    this.queue = Promise.resolve();
    this.list = h("div", { class: "messages", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    this.header = h("header", { class: "chat-header" });
    this.composer = new Composer(this);
    this.element = h("section", { class: "chat", "aria-label": "Chat" }, this.header, this.list, this.composer.element);
    this.stopListening = app.live.on("agent", (frame) => {
      if (frame.session_id === this.sessionId) this.enqueue(() => this.onEvent(frame));
    });
  }

  enqueue(step) {
    this.queue = this.queue.then(step).catch((error) => toast(error.message, "error"));
    return this.queue;
  }

  close() {
    this.stopListening();
    this.app.live.unwatch();
  }

  async load() {
    if (!this.sessionId) {
      this.renderHeader(null);
      this.composer.focus();
      return;
    }
    const [session, messages, turns] = await Promise.all([
      api(`/sessions/${this.sessionId}`),
      all(`/sessions/${this.sessionId}/messages`, { direction: "before", most: 2000 }),
      api(`/sessions/${this.sessionId}/turns`, { query: { limit: 1 } }),
    ]);
    this.session = session;
    this.renderHeader(session);
    const active = turns.data.find((turn) => ACTIVE.has(turn.status));
    // The running turn's answer is rebuilt from its events (replayed from the first), so
    // it shows exactly what a stream shows, and then goes on live.
    const shown = messages.filter((m) => !(active && m.turn_id === active.id && m.role !== "user"));
    this.renderStored(shown);
    if (active) {
      this.running = active.id;
      this.composer.setRunning(true);
    }
    this.app.live.watch(this.sessionId, active ? active.id : null, 0);
    this.scrollDown(true);
    this.composer.focus();
  }

  renderHeader(session) {
    const title = session ? session.display_title : "New chat";
    const titleField = h("h1", { class: "chat-title", tabindex: "-1" }, title);
    const controls = [];
    if (session) {
      controls.push(
        h("button", { type: "button", class: "ghost", onclick: () => this.rename(), "aria-label": "Rename chat" }, "Rename"),
        h("button", { type: "button", class: "ghost", onclick: () => this.fork(), "aria-label": "Fork this chat" }, "Fork"),
      );
    }
    clear(this.header, h("button", { type: "button", class: "ghost menu-toggle", "aria-label": "Show chats", onclick: () => this.app.toggleSidebar() }, "☰"), titleField, h("div", { class: "chat-controls" }, controls, this.composer.pickers));
  }

  renderStored(messages) {
    this.list.replaceChildren();
    this.blocks.clear();
    let block = null;
    for (const message of messages) {
      if (message.role === "user") {
        block = null;
        this.list.append(this.userMessage(message));
      } else if (message.role === "assistant" || message.role === "tool") {
        const turnId = message.turn_id || message.id;
        if (!block || block.turnId !== turnId) {
          block = new TurnBlock(turnId);
          this.blocks.set(turnId, block);
          this.list.append(block.element);
        }
        block.addStored(message);
      } else if (message.role === "system") {
        this.list.append(h("p", { class: "note note-summary" }, "Earlier messages were summarised."));
      }
    }
    const blocks = [...this.blocks.values()];
    blocks.forEach((each, index) => each.end("completed", this.answerActions(each, index === blocks.length - 1)));
    if (!messages.length) this.list.append(this.emptyState());
  }

  emptyState() {
    return h("div", { class: "empty" }, h("p", {}, "Ask anything. The agent can use tools, read your project and remember what matters."));
  }

  userMessage(message) {
    const actions = message.id
      ? [h("button", { type: "button", class: "ghost small", "aria-label": "Edit message", onclick: (event) => this.edit(message, event.target.closest("article")) }, "Edit")]
      : [];
    return userMessage(message, actions);
  }

  answerActions(block, last) {
    const copy = h("button", { type: "button", class: "ghost small", onclick: () => navigator.clipboard?.writeText(block.element.querySelector(".turn-body").innerText) }, "Copy");
    if (!last) return [copy];
    return [
      copy,
      h("button", { type: "button", class: "ghost small", onclick: () => this.rewrite("regenerate") }, "Regenerate"),
      h("button", { type: "button", class: "ghost small", onclick: () => this.rewrite("continue") }, "Continue"),
    ];
  }

  onEvent(event) {
    let block = this.blocks.get(event.turn_id);
    if (event.type === "turn_start") return this.turnStarted(event);
    if (!block) {
      block = this.newBlock(event.turn_id);
    }
    switch (event.type) {
      case "text":
        block.addText(event.content);
        break;
      case "thinking":
        block.addThinking(event.content);
        break;
      case "tool_call":
        block.addToolCall(event);
        break;
      case "tool_result":
        block.addToolResult(event);
        break;
      case "input_required":
        block.addInput(event, (request, response) => this.answer(request, response));
        announce(event.kind === "tool_approval" ? "The agent asks for approval" : "The agent asks a question");
        break;
      case "status":
        if (event.status !== "resumed") block.addNote(event.message);
        break;
      case "title":
        this.header.querySelector(".chat-title").textContent = event.title;
        this.app.sidebar.refresh();
        break;
      case "error":
        block.addNote(`${event.message}`, "error");
        break;
      case "done":
        this.turnEnded(block, event);
        break;
    }
    this.scrollDown();
  }

  async turnStarted(event) {
    if (event.kind === "regenerate" || event.kind === "edit") {
      // What followed the answered message is gone: show the history as stored now.
      const messages = await all(`/sessions/${this.sessionId}/messages`, { direction: "before", most: 2000 });
      this.renderStored(messages.filter((m) => !(m.turn_id === event.turn_id && m.role !== "user")));
    } else if (event.message_id && !this.list.querySelector(`[data-message-id="${event.message_id}"]`)) {
      const pending = this.list.querySelector(".msg-user[data-pending]");
      if (pending) {
        pending.dataset.messageId = event.message_id;
        delete pending.dataset.pending;
      } else {
        // Sent from another tab or client: fetch it to show it.
        const page = await api(`/sessions/${this.sessionId}/messages`, { query: { limit: 5 } });
        const message = page.data.find((m) => m.id === event.message_id);
        if (message) this.list.append(this.userMessage(message));
      }
    }
    this.list.querySelector(".empty")?.remove();
    this.running = event.turn_id;
    this.composer.setRunning(true);
    const last = [...this.blocks.values()].at(-1);
    if (event.kind === "continue" && last) {
      // The continuation goes on in the same message: the same block, its text reopened.
      this.blocks.set(event.turn_id, last);
      last.resume();
    } else {
      this.newBlock(event.turn_id);
    }
    this.scrollDown(true);
  }

  newBlock(turnId) {
    const block = new TurnBlock(turnId);
    this.blocks.set(turnId, block);
    this.list.append(block.element);
    for (const other of this.blocks.values()) {
      if (other !== block && other.element.dataset.status) other.end(other.element.dataset.status, this.answerActions(other, false));
    }
    return block;
  }

  turnEnded(block, event) {
    block.end(event.status, this.answerActions(block, true));
    if (this.running === event.turn_id) {
      this.running = null;
      this.composer.setRunning(false);
    }
    announce(event.status === "completed" ? "Answer complete" : `Turn ${event.status}`);
    this.app.sidebar.refresh();
  }

  async answer(request, response) {
    await api(`/sessions/${this.sessionId}/turns/${request.turn_id}/input`, {
      method: "POST",
      body: { request_id: request.request_id, ...response },
    });
  }

  async send(content, attachments, choice) {
    if (!this.sessionId) {
      const body = { agent: choice.agent || undefined, model: choice.model || undefined };
      if (this.pendingProject !== undefined) body.project_id = this.pendingProject;
      const session = await api("/sessions", { method: "POST", body });
      this.app.pendingPrompt = { content, attachments, choice };
      location.hash = `#/chat/${session.id}`;
      return;
    }
    this.list.querySelector(".empty")?.remove();
    const shown = this.userMessage({ content, parts: attachments, created_at: new Date().toISOString() });
    shown.dataset.pending = "";
    this.list.append(shown);
    this.scrollDown(true);
    this.composer.setRunning(true);
    try {
      await this.app.live.send({
        channel: "agent",
        type: "prompt",
        session_id: this.sessionId,
        content,
        attachments,
        generate_title: !this.session || this.session.message_count === 0,
        ...(choice.agent ? { agent: choice.agent } : {}),
        ...(choice.model ? { model: choice.model } : {}),
      });
      announce("Sent");
    } catch (error) {
      shown.remove();
      this.composer.setRunning(false);
      this.composer.restore(content);
      toast(error.message, "error");
    }
  }

  async stop() {
    await this.app.live.send({ channel: "agent", type: "abort", session_id: this.sessionId });
  }

  async rewrite(kind) {
    await api(`/sessions/${this.sessionId}/${kind}`, { method: "POST", body: {}, query: { background: true } });
  }

  edit(message, article) {
    const field = h("textarea", { class: "edit-field", rows: 3, "aria-label": "Edit your message" });
    field.value = message.content;
    const form = h(
      "form",
      { class: "edit-form", onsubmit: async (event) => {
        event.preventDefault();
        await api(`/sessions/${this.sessionId}/messages/${message.id}`, {
          method: "PATCH",
          body: { content: field.value, regenerate: true },
          query: { background: true },
        }).catch((error) => toast(error.message, "error"));
      } },
      field,
      h("div", { class: "input-buttons" }, h("button", { type: "submit", class: "primary" }, "Save and answer again"), h("button", { type: "button", onclick: () => form.replaceWith(article) }, "Cancel")),
    );
    article.replaceWith(form);
    field.focus();
  }

  async setProject(projectId) {
    this.composer.filesButton.hidden = !projectId;
    if (!this.sessionId) {
      this.pendingProject = projectId;
      return;
    }
    try {
      this.session = await api(`/sessions/${this.sessionId}`, { method: "PATCH", body: { project_id: projectId } });
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async rename() {
    const title = prompt("Rename this chat", this.session.display_title);
    if (!title) return;
    this.session = await api(`/sessions/${this.sessionId}`, { method: "PATCH", body: { title } });
    this.renderHeader(this.session);
    this.app.sidebar.refresh();
  }

  async fork() {
    const forked = await api(`/sessions/${this.sessionId}/fork`, { method: "POST", body: {} });
    location.hash = `#/chat/${forked.id}`;
  }

  scrollDown(force = false) {
    const near = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 120;
    if (force || near) this.list.scrollTop = this.list.scrollHeight;
  }
}
