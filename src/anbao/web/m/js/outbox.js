// The outbox: every incident report, position and task status change is first stored in IndexedDB with
// its client_key, then sent in order by one sender. An item leaves the outbox only after a 2xx answer
// (the server dedupes reports and positions by client_key and answers a repeated task status with 200),
// so a drop at any moment loses nothing and sends nothing twice.
//   - no network, a timeout, 408/429/5xx: stop, retry with backoff (1 s, 2 s, 4 s ... 30 s, jitter);
//     at once when the browser says it is back online;
//   - 401: the login is gone: stop, keep everything, ask for a new login; sending resumes after it;
//   - any other 4xx: the server refuses this item for good: it moves to "failed" with the server's
//     message (shown to the officer, who may send it again or drop it) and the queue goes on.
// Order: reports and task changes first, oldest first; positions after them, oldest first (an hour of
// positions taken without network must not hold back a report; within each kind the order is kept).
import {detailText, getToken} from "/js/api.js";
import * as db from "./db.js";
import {uuid} from "./util.js";

const MAX_DELAY = 30000;

export class Outbox extends EventTarget {
  constructor({onAuthLost}) {
    super();
    this.onAuthLost = onAuthLost;
    this.running = false;
    this.again = false;
    this.attempt = 0;
    this.timer = null;
    this.state = "idle"; // idle | sending | retry | offline | login
    this.retryAt = null;
    this.lastError = "";
    this.sent = 0;
    this.waiting = 0;
    this.failedCount = 0;
    addEventListener("online", () => this.kick());
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, {detail}));
  }

  setState(state, error = "") {
    this.state = state;
    if (error) this.lastError = error;
    this.emit("state", {state, error});
  }

  async refreshCounts() {
    [this.waiting, this.failedCount] = await Promise.all([db.count("outbox"), db.count("failed")]);
    this.emit("change", {waiting: this.waiting, failed: this.failedCount});
  }

  /**
   * Queue one POST. ``kind``: incident | position | task; ``meta`` is kept for the lists on the phone
   * (task id, status, the report's type and text). Resolves with the stored item.
   */
  async add(kind, path, body, meta = {}) {
    const item = {kind, path, body, meta, client_key: body.client_key || uuid(), created_at: new Date().toISOString(),
                  tries: 0, last_error: ""};
    item.seq = await db.add("outbox", item);
    await this.refreshCounts();
    this.emit("queued", {item});
    this.kick();
    return item;
  }

  items() {
    return db.all("outbox");
  }

  failed() {
    return db.all("failed");
  }

  /** Send again something the server refused (after the officer fixed the cause, e.g. logged in again). */
  async retryFailed(seq) {
    await db.move("failed", "outbox", seq, {status: undefined, error: undefined});
    await this.refreshCounts();
    this.kick();
  }

  async dropFailed(seq) {
    await db.del("failed", seq);
    await this.refreshCounts();
  }

  /** Try now (new item, back online, new login, button). */
  kick() {
    this.attempt = 0;
    clearTimeout(this.timer);
    this.timer = null;
    this.flush();
  }

  schedule() {
    clearTimeout(this.timer);
    const base = Math.min(MAX_DELAY, 1000 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  async flush() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      // one sender across tabs of the app, where the browser offers Web Locks
      if (navigator.locks?.request) await navigator.locks.request("anbao-m-outbox", () => this.drain());
      else await this.drain();
    } catch (err) {
      console.error("outbox", err);
      this.setState("retry", String(err?.message || err));
      this.schedule();
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      if (this.state !== "login" && !this.timer) this.flush();
    }
  }

  async drain() {
    for (;;) {
      this.again = false;
      const items = sendingOrder(await db.all("outbox"));
      if (!items.length) {
        this.attempt = 0;
        this.setState("idle");
        await this.refreshCounts();
        return;
      }
      if (!getToken()) {
        this.setState("login");
        return;
      }
      if (navigator.onLine === false) {
        this.setState("offline");
        this.schedule(); // the online event comes first in practice; the timer is a safety net
        return;
      }
      this.setState("sending");
      for (const item of items) {
        const outcome = await this.send(item);
        if (outcome !== "next") return;
      }
    }
  }

  /** Send one item: "next" when it left the outbox (sent or refused for good), else "stop". */
  async send(item) {
    const ctrl = new AbortController();
    const timeout = setTimeout(() => ctrl.abort(), item.kind === "incident" ? 90000 : 20000);
    let r;
    let data = null;
    try {
      r = await fetch(item.path, {
        method: "POST", signal: ctrl.signal,
        headers: {"Content-Type": "application/json", Authorization: `Bearer ${getToken()}`},
        body: JSON.stringify(item.body),
      });
      data = await r.json().catch(() => null);
    } catch (err) {
      clearTimeout(timeout);
      await this.note(item, err?.name === "AbortError" ? "timeout" : "network");
      this.setState(navigator.onLine === false ? "offline" : "retry", "network");
      this.schedule();
      return "stop";
    }
    clearTimeout(timeout);
    if (r.ok) {
      await db.del("outbox", item.seq);
      this.attempt = 0;
      this.sent += 1;
      this.emit("sent", {item, data, status: r.status}); // before "change": the lists show the server's answer at once
      await this.refreshCounts();
      return "next";
    }
    const detail = detailText(data, r.status);
    if (r.status === 401) {
      await this.note(item, `HTTP 401 ${detail}`);
      this.setState("login", detail);
      this.onAuthLost?.();
      return "stop";
    }
    if (r.status === 408 || r.status === 429 || r.status >= 500) {
      await this.note(item, `HTTP ${r.status} ${detail}`);
      this.setState("retry", `HTTP ${r.status}: ${detail}`);
      this.schedule();
      return "stop";
    }
    await db.move("outbox", "failed", item.seq, {status: r.status, error: detail, failed_at: new Date().toISOString()});
    await this.refreshCounts();
    this.emit("rejected", {item, status: r.status, detail});
    return "next";
  }

  async note(item, error) {
    item.tries += 1;
    item.last_error = error;
    try {
      await db.put("outbox", item);
    } catch {
      // only bookkeeping
    }
  }
}

/** Reports and task changes before positions; by seq (the order they were made) within each. */
export function sendingOrder(items) {
  const rank = (i) => (i.kind === "position" ? 1 : 0);
  return [...items].sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
}
