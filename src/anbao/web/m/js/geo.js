// GPS on the phone (navigator.geolocation, WGS-84) and position sharing: while sharing is on, one
// position every N seconds goes into the outbox (so positions taken without network are sent later,
// in order, each once).
import {uuid} from "./util.js";

const SHARE_KEY = "anbao.m.share";
export const INTERVALS = [5, 10, 15, 30, 60, 120, 300];
export const DEFAULT_INTERVAL = 15;

/** One fix: resolves {lon, lat, accuracy, at} or rejects with {code: denied|unavailable|timeout|unsupported}. */
export function locate({maxAgeMs = 10000, timeoutMs = 15000} = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject({code: "unsupported"});
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy,
                      at: new Date(p.timestamp || Date.now()).toISOString()}),
      (e) => reject({code: e.code === 1 ? "denied" : e.code === 3 ? "timeout" : "unavailable", message: e.message}),
      {enableHighAccuracy: true, maximumAge: maxAgeMs, timeout: timeoutMs},
    );
  });
}

export function shareSettings() {
  try {
    const s = JSON.parse(localStorage.getItem(SHARE_KEY) || "null");
    if (s && typeof s.on === "boolean" && Number.isFinite(s.interval)) return s;
  } catch {
    // damaged: defaults
  }
  return {on: false, interval: DEFAULT_INTERVAL};
}

export function saveShareSettings(s) {
  localStorage.setItem(SHARE_KEY, JSON.stringify({on: Boolean(s.on), interval: s.interval}));
}

/** Accuracy in metres for the API (the schema allows 0 … 100 km). */
export function accuracyForApi(a) {
  return Number.isFinite(a) ? Math.min(100000, Math.max(0, Math.round(a * 10) / 10)) : null;
}

export class Sharer extends EventTarget {
  /** ``enqueue(body)`` puts one position into the outbox; ``unitId()`` is the unit it belongs to. */
  constructor({enqueue, unitId}) {
    super();
    this.enqueue = enqueue;
    this.unitId = unitId;
    this.timer = null;
    this.busy = false;
    this.last = null; // last fix
    this.lastQueued = null; // time the last position went into the outbox
    this.error = null;
    const s = shareSettings();
    this.on = s.on;
    this.interval = s.interval;
  }

  emit() {
    this.dispatchEvent(new CustomEvent("change"));
  }

  set(on, interval = this.interval) {
    this.on = on;
    this.interval = interval;
    saveShareSettings({on, interval});
    this.restart();
  }

  restart() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.on && this.unitId()) {
      this.tick();
      this.timer = setInterval(() => this.tick(), this.interval * 1000);
    }
    this.emit();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async tick() {
    if (this.busy || !this.on) return;
    const unit = this.unitId();
    if (!unit) return;
    this.busy = true;
    try {
      const fix = await locate({maxAgeMs: Math.max(1000, (this.interval * 1000) / 2), timeoutMs: Math.max(5000, this.interval * 1000)});
      this.last = fix;
      this.error = null;
      await this.enqueue({client_key: uuid(), unit_id: unit, lon: fix.lon, lat: fix.lat,
                          accuracy_m: accuracyForApi(fix.accuracy), at: fix.at});
      this.lastQueued = new Date().toISOString();
    } catch (err) {
      this.error = err?.code || "unavailable";
      if (!err?.code) console.error("position", err);
    } finally {
      this.busy = false;
      this.emit();
    }
  }
}
