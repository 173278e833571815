// One WebSocket per page: /api/v1/events/{id}/live. The token never goes in the URL (servers log URLs):
// the first frame sent is {"type": "auth", "token"}. Resumes with ?since=<last seq> after a drop,
// reconnecting with exponential backoff (1 s, 2 s, 4 s ... 30 s, with jitter). Close code 4401 means the
// login is gone (expired, revoked, user deactivated: the server checks again every few seconds);
// 4400/4403/4404 stop retrying.
import {api, AuthError, getToken} from "./api.js";

export class LiveStream {
  constructor(eventId, {onMessage, onState, onResync, onAuthLost, instance = null}) {
    this.eventId = eventId;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.onResync = onResync || (() => {});
    this.onAuthLost = onAuthLost || (() => {});
    this.seq = null;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = true;
    this.state = "idle";
    this.instance = instance; // GET /ui-config's instance: it changes when the server restarts
    this.reload = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  url() {
    const q = this.seq !== null ? `?${new URLSearchParams({since: String(this.seq)})}` : "";
    const proto = location.protocol === "https:" ? "wss" : "ws";
    return `${proto}://${location.host}/api/v1/events/${this.eventId}/live${q}`;
  }

  /** Before resuming: a restarted server numbers its messages from 1 again, so ?since= would skip them. */
  async checkServer() {
    try {
      const cfg = await api("/ui-config");
      if (this.instance !== null && cfg.instance !== this.instance) {
        this.seq = null;
        this.reload = true;
      }
      this.instance = cfg.instance;
      return true;
    } catch (err) {
      if (err instanceof AuthError) {
        this.setState("offline");
        return false; // api() already brought the login form back; resume() follows the new login
      }
      return true; // the server is unreachable: the WebSocket attempt fails and backs off
    }
  }

  async connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.setState(this.attempt ? "reconnecting" : "connecting");
    if (this.seq !== null && !(await this.checkServer())) return;
    if (this.stopped) return;
    let opened = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify({type: "auth", token: getToken() || ""}));
    };
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === "hello") {
        if (this.seq === null || m.seq > this.seq) this.seq = m.seq;
        this.attempt = 0;
        this.setState("live");
        if (this.reload) {
          this.reload = false;
          this.onResync();
        }
      } else if (m.type === "message") {
        this.seq = m.seq;
        this.onMessage(m);
      } else if (m.type === "resync") {
        this.seq = m.seq ?? this.seq;
        this.onResync();
      }
    };
    ws.onclose = async (ev) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      if (ev.code === 4401) {
        this.setState("offline");
        this.onAuthLost();
        return;
      }
      if (ev.code === 4400 || ev.code === 4403 || ev.code === 4404) {
        this.setState("refused", ev.code);
        return;
      }
      // a socket that never opened (1006: server unreachable, or a proxy refused it): the next attempt first
      // asks GET /ui-config, which answers 401 (and brings the login form back) when the login no longer holds
      if (!opened && this.seq === null && !(await this.checkServer())) return;
      this.schedule();
    };
  }

  schedule() {
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.setState("reconnecting", delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** After a new login: connect again at once, resuming from the last seq. */
  resume() {
    this.attempt = 0;
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.stopped = false;
    this.connect();
  }
}
