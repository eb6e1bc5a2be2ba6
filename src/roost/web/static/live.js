// The one WebSocket (/api/ws) that keeps the page live: the user's sessions and history
// changing anywhere, tasks, and the events of the session on screen. It reconnects by
// itself and, for a turn it was following, resumes after the last event it handled, so
// nothing is lost or shown twice (docs/api.md, "WebSocket").

export class Live {
  constructor() {
    this.socket = null;
    this.nextId = 1;
    this.waiting = new Map(); // id -> {resolve, reject}
    this.handlers = new Map(); // channel -> Set(handler)
    this.watched = null; // {sessionId, turnId, after}: the session on screen
    this.retry = 0;
    this.closed = false;
    this.statusListeners = new Set();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retry = 0;
      this.setStatus("online");
      for (const channel of ["sessions", "hstry", "tasks"]) {
        this.send({ channel, type: "subscribe" }).catch(() => {});
      }
      if (this.watched) this.subscribeWatched();
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      for (const { reject } of this.waiting.values()) reject(new Error("The connection closed"));
      this.waiting.clear();
      if (this.closed) return;
      this.setStatus("offline");
      const delay = Math.min(10000, 250 * 2 ** this.retry++);
      setTimeout(() => this.connect(), delay);
    });
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }

  setStatus(status) {
    this.status = status;
    this.statusListeners.forEach((listener) => listener(status));
  }

  on(channel, handler) {
    if (!this.handlers.has(channel)) this.handlers.set(channel, new Set());
    this.handlers.get(channel).add(handler);
    return () => this.handlers.get(channel).delete(handler);
  }

  // A frame with an id; resolves with the server's `ok` reply, rejects with its error.
  send(frame) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error("Not connected"));
        return;
      }
      const id = String(this.nextId++);
      this.waiting.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  // Follow a session: its active turn from `after` (0 replays it all), and every turn
  // that starts in it afterwards.
  watch(sessionId, turnId = null, after = 0) {
    if (this.watched && this.watched.sessionId !== sessionId) {
      this.send({ channel: "agent", type: "unsubscribe", session_id: this.watched.sessionId }).catch(() => {});
    }
    this.watched = { sessionId, turnId, after };
    if (this.socket?.readyState === WebSocket.OPEN) this.subscribeWatched();
  }

  unwatch() {
    if (this.watched) {
      this.send({ channel: "agent", type: "unsubscribe", session_id: this.watched.sessionId }).catch(() => {});
    }
    this.watched = null;
  }

  subscribeWatched() {
    const { sessionId, turnId, after } = this.watched;
    const frame = { channel: "agent", type: "subscribe", session_id: sessionId };
    if (turnId) Object.assign(frame, { turn_id: turnId, after });
    this.send(frame).catch(() => {});
  }

  receive(frame) {
    if (frame.id !== undefined && this.waiting.has(String(frame.id))) {
      const { resolve, reject } = this.waiting.get(String(frame.id));
      this.waiting.delete(String(frame.id));
      if (frame.type === "error") reject(Object.assign(new Error(frame.error.message), frame.error));
      else resolve(frame);
      return;
    }
    if (frame.channel === "system" && frame.type === "ping") {
      this.socket.send(JSON.stringify({ channel: "system", type: "pong" }));
      return;
    }
    if (frame.channel === "agent" && this.watched && frame.session_id === this.watched.sessionId && frame.seq) {
      // Where a reconnect resumes: the turn and the last of its events handled.
      if (frame.turn_id !== this.watched.turnId) this.watched = { ...this.watched, turnId: frame.turn_id, after: 0 };
      if (frame.seq <= this.watched.after) return; // already handled before a reconnect
      this.watched.after = frame.seq;
    }
    this.handlers.get(frame.channel)?.forEach((handler) => handler(frame));
  }
}
