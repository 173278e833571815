// Time slider 态势回放: replays the last 15 min - 6 h of zone states from GET /zone-history. The right end
// is live; moving left shows the recorded state of every zone at that step (play steps forward).
import {api, AuthError} from "./api.js";
import {clock, num} from "./format.js";
import {t} from "./i18n.js";
import {levelAt} from "./vocab.js";

const RANGES = {m15: 900, h1: 3600, h3: 3 * 3600, h6: 6 * 3600};

export class Replay {
  constructor(root, store, mapView, {onChange} = {}) {
    this.root = root;
    this.store = store;
    this.mapView = mapView;
    this.onChange = onChange || (() => {});
    this.slider = root.querySelector("input[type=range]");
    this.range = root.querySelector("select");
    this.label = root.querySelector(".rp-time");
    this.play = root.querySelector(".rp-play");
    this.live = root.querySelector(".rp-live");
    this.banner = document.getElementById("replay-banner");
    this.history = null;
    this.loadedAt = 0;
    this.timer = null;
    this.index = null; // null = live
    this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));
    this.slider.addEventListener("pointerdown", () => this.ensure());
    this.range.addEventListener("change", () => this.load().then(() => this.seek(this.firstIndex())));
    this.play.addEventListener("click", () => this.toggle());
    this.live.addEventListener("click", () => this.goLive());
    this.goLive();
  }

  firstIndex() {
    const h = this.history;
    if (!h?.data_since) return 0;
    const first = new Date(h.data_since).getTime();
    const i = h.times.findIndex((x) => new Date(x).getTime() >= first);
    return i < 0 ? h.times.length - 1 : Math.max(0, i - 1); // from the step just before the record starts
  }

  async ensure() {
    if (!this.history || Date.now() - this.loadedAt > 30000) await this.load();
  }

  async load() {
    const span = RANGES[this.range.value] || 3600;
    const until = new Date();
    const since = new Date(until.getTime() - span * 1000);
    this.root.classList.add("loading");
    try {
      this.history = await api(this.store.url("/zone-history"), {query: {since: since.toISOString(), until: until.toISOString()}});
      this.loadedAt = Date.now();
      const n = this.history.times.length;
      this.slider.min = String(this.firstIndex());
      this.slider.max = String(n - 1);
      if (this.index === null) this.slider.value = String(n - 1);
    } catch (err) {
      if (!(err instanceof AuthError)) this.label.textContent = t("error.load", {detail: err.message});
    } finally {
      this.root.classList.remove("loading");
    }
  }

  async seek(i) {
    await this.ensure();
    const h = this.history;
    if (!h) return;
    const last = h.times.length - 1;
    if (i >= last) {
      this.goLive();
      return;
    }
    this.index = i;
    const snapshot = new Map();
    const counts = new Map();
    for (const z of h.zones) {
      snapshot.set(z.zone_id, {level: levelAt(z.level[i]), count: z.count[i], density: z.density[i]});
      counts.set(z.zone_id, z.count[i]);
    }
    this.mapView.setReplay(snapshot);
    const at = new Date(h.times[i]);
    this.label.textContent = clock(at);
    this.root.classList.add("replaying");
    this.banner.hidden = false;
    this.banner.replaceChildren(t("replay.banner", {time: clock(at), people: num(h.people[i])}));
    this.onChange({index: i, at});
  }

  goLive() {
    this.stop();
    this.index = null;
    this.slider.value = this.slider.max;
    this.mapView.setReplay(null);
    this.label.textContent = t("replay.live");
    this.root.classList.remove("replaying");
    if (this.banner) this.banner.hidden = true;
    this.onChange({index: null});
  }

  toggle() {
    if (this.timer) {
      this.stop();
      return;
    }
    this.ensure().then(() => {
      if (this.index === null) this.seek(this.firstIndex());
      this.play.classList.add("on");
      this.timer = setInterval(() => {
        const next = (this.index ?? Number(this.slider.min)) + 1;
        this.slider.value = String(next);
        this.seek(next);
      }, 250);
    });
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.play.classList.remove("on");
  }

  relabel() {
    if (this.index === null) this.label.textContent = t("replay.live");
    else this.seek(this.index);
  }
}
