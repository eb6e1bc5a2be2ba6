// How a conversation looks: a user's message, and a turn's answer — its thinking and
// tool calls folded, its text as markdown, its questions and approvals answered inline.
// A TurnBlock is built the same way from stored messages and from live events, so a
// reload shows what the stream showed.

import { h, append, shortTime } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

export function userMessage(message, actions = []) {
  const images = (message.parts || []).filter((part) => part.type === "image");
  return h(
    "article",
    { class: "msg msg-user", dataset: { messageId: message.id || "" }, "aria-label": "You said" },
    h("div", { class: "bubble" }, message.content),
    images.map((image) =>
      h("img", { class: "attachment", alt: "Attached image", src: image.url || `data:${image.media_type};base64,${image.data}` }),
    ),
    h("div", { class: "msg-meta" }, message.created_at ? shortTime(message.created_at) : "", actions),
  );
}

export class TurnBlock {
  constructor(turnId) {
    this.turnId = turnId;
    this.tools = new Map(); // call_id -> {element, summary, started}
    this.inputs = new Map(); // call_id or request_id -> card
    this.text = null; // the text segment streaming now: {element, source}
    this.thinking = null;
    this.pending = new Set();
    this.actions = h("div", { class: "msg-actions" });
    this.body = h("div", { class: "turn-body" });
    this.element = h(
      "article",
      { class: "msg msg-assistant", dataset: { turnId: turnId || "" }, "aria-label": "Answer" },
      this.body,
      this.actions,
    );
  }

  // From storage: an assistant message's parts, or a tool message's results.
  addStored(message) {
    for (const part of message.parts || []) {
      if (part.type === "thinking") this.addThinking(part.text);
      else if (part.type === "text") this.addText(part.text);
      else if (part.type === "tool_call") this.addToolCall(part);
      else if (part.type === "tool_result") this.addToolResult(part);
      else if (part.type === "image") this.addImage(part);
    }
    if (!message.parts?.length && message.content) this.addText(message.content);
    this.cut();
  }

  cut() {
    // The next text or thinking starts a new segment (a new model call).
    this.lastText = this.text || this.lastText;
    this.text = null;
    this.thinking = null;
  }

  // A continued answer: its text goes on where it stopped.
  resume() {
    delete this.element.dataset.status;
    this.actions.replaceChildren();
    this.text = this.text || this.lastText || null;
  }

  addText(content) {
    if (!this.text) {
      this.thinking = null;
      this.text = { element: h("div", { class: "md" }), source: "" };
      this.body.append(this.text.element);
    }
    this.text.source += content;
    this.schedule(this.text);
  }

  addThinking(content) {
    if (!this.thinking) {
      this.text = null;
      const body = h("div", { class: "thinking-text" });
      const element = h("details", { class: "thinking" }, h("summary", {}, "Thinking"), body);
      this.thinking = { element, body };
      this.body.append(element);
    }
    this.thinking.body.append(content);
  }

  // Markdown is rendered at most once a frame, however fast the tokens come; a tab in the
  // background gets no frames, so there a timer renders it.
  schedule(segment) {
    if (this.pending.has(segment)) return;
    this.pending.add(segment);
    const render = () => {
      if (!this.pending.delete(segment)) return;
      renderMarkdown(segment.element, segment.source);
    };
    requestAnimationFrame(render);
    setTimeout(render, 250);
  }

  addToolCall({ call_id, tool, args }) {
    this.cut();
    const summary = h("summary", {}, h("span", { class: "tool-name" }, tool), h("span", { class: "tool-state" }, "running…"));
    const element = h(
      "details",
      { class: "tool running", dataset: { callId: call_id } },
      summary,
      h("div", { class: "tool-label" }, "Arguments"),
      h("pre", { class: "tool-args" }, JSON.stringify(args ?? {}, null, 2)),
    );
    this.tools.set(call_id, { element, summary });
    this.body.append(element);
  }

  addToolResult({ call_id, tool, result, success, error, duration_ms }) {
    let entry = this.tools.get(call_id);
    if (!entry) {
      this.addToolCall({ call_id, tool, args: {} });
      entry = this.tools.get(call_id);
    }
    const { element, summary } = entry;
    element.classList.remove("running");
    element.classList.add(success ? "ok" : "failed");
    const state = summary.querySelector(".tool-state");
    const took = duration_ms === undefined || duration_ms === null ? "" : ` · ${formatDuration(duration_ms)}`;
    state.textContent = (success ? "done" : "failed") + took;
    const shown = typeof result === "string" ? result : JSON.stringify(result, null, 2);
    append(element, [
      h("div", { class: "tool-label" }, success ? "Result" : "Error"),
      h("pre", { class: "tool-result" }, success ? shown : error || shown),
    ]);
    const asked = this.inputs.get(call_id);
    if (asked && !asked.element.classList.contains("settled")) asked.settle(success ? "Allowed" : "Declined");
    this.cut();
  }

  addImage(part) {
    const src = part.url || `data:${part.format ? "image/" + part.format : part.media_type};base64,${part.data}`;
    this.body.append(h("img", { class: "attachment", alt: "Image from the agent", src }));
  }

  // A question or an approval, answered here; `answer` sends the response.
  addInput(request, answer) {
    this.cut();
    const status = h("p", { class: "input-status", role: "status" });
    const card = h("div", { class: "input-card", role: "group", "aria-label": request.kind === "tool_approval" ? "Approval needed" : "Question" });
    const settle = (text) => {
      card.classList.add("settled");
      card.querySelectorAll("button, input, textarea").forEach((control) => (control.disabled = true));
      status.textContent = text;
    };
    const send = async (response, label) => {
      card.querySelectorAll("button").forEach((button) => (button.disabled = true));
      try {
        await answer(request, response);
        settle(label);
      } catch (error) {
        status.textContent = error.message;
        card.querySelectorAll("button").forEach((button) => (button.disabled = false));
      }
    };
    if (request.kind === "tool_approval") {
      append(card, [
        h("p", { class: "input-prompt" }, request.prompt || `Allow ${request.tool}?`),
        h("pre", { class: "tool-args" }, JSON.stringify(request.args ?? {}, null, 2)),
        h(
          "div",
          { class: "input-buttons" },
          h("button", { type: "button", class: "primary", onclick: () => send({ approve: true }, "Allowed") }, "Allow"),
          h("button", { type: "button", onclick: () => send({ approve: true, remember: true }, "Allowed for this chat") }, "Always allow here"),
          h("button", { type: "button", class: "danger", onclick: () => send({ deny: true }, "Declined") }, "Deny"),
        ),
      ]);
    } else {
      const field = h("input", { type: "text", class: "input-answer", "aria-label": "Your answer" });
      const options = (request.options || []).map((option) =>
        h("button", { type: "button", onclick: () => send({ answer: option }, `Answered: ${option}`) }, option),
      );
      append(card, [
        h("p", { class: "input-prompt" }, request.prompt),
        h("div", { class: "input-buttons" }, options),
        h(
          "form",
          { class: "input-form", onsubmit: (event) => { event.preventDefault(); if (field.value.trim()) send({ answer: field.value }, `Answered: ${field.value}`); } },
          field,
          h("button", { type: "submit", class: "primary" }, "Answer"),
          h("button", { type: "button", onclick: () => send({ deny: true }, "Declined") }, "Decline"),
        ),
      ]);
    }
    card.append(status);
    const entry = { element: card, settle };
    this.inputs.set(request.call_id || request.request_id, entry);
    const waitingTool = this.tools.get(request.call_id);
    if (waitingTool) waitingTool.summary.querySelector(".tool-state").textContent = "waiting for you…";
    this.body.append(card);
    card.querySelector("button, input")?.focus({ preventScroll: true });
  }

  addNote(text, kind = "status") {
    this.cut();
    this.body.append(h("p", { class: `note note-${kind}`, role: kind === "error" ? "alert" : null }, text));
  }

  end(status, actions = []) {
    this.element.classList.toggle("ended-failed", status === "failed" || status === "interrupted");
    this.element.dataset.status = status;
    if (status === "cancelled") this.addNote("Stopped.");
    if (status === "interrupted") this.addNote("Interrupted: the server stopped while this ran.", "error");
    for (const { element, settle } of this.inputs.values()) {
      if (!element.classList.contains("settled")) settle("Closed");
    }
    this.actions.replaceChildren(...actions);
  }
}

function formatDuration(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
