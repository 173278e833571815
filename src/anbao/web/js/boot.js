// Start-up shared by the command map and the wall: catalogs, login, settings, the event to show, the
// store and its live stream. A page module calls boot() and builds its views on the result.
import {api, AuthError} from "./api.js";
import {setTimeZone} from "./format.js";
import {applyI18n, loadCatalog, t} from "./i18n.js";
import {LiveStream} from "./live.js";
import {ensureSession, expire, installLogin, login, onLogin} from "./session.js";
import {Store} from "./store.js";

export function showFatal(message, retry) {
  const box = document.getElementById("fatal");
  box.replaceChildren();
  const p = document.createElement("p");
  p.textContent = message;
  box.append(p);
  if (retry) {
    const b = document.createElement("button");
    b.className = "btn";
    b.textContent = t("common.retry");
    b.addEventListener("click", () => {
      box.hidden = true;
      retry();
    });
    box.append(b);
  }
  box.hidden = false;
}

/** Runs ``fn`` again after a new login whenever the login has expired. */
export async function withLogin(fn) {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      await login("expired");
    }
  }
}

/** The event to show: ?event=, else the last one viewed, else the active one, else the first. */
export function pickEvent(events) {
  const wanted = Number(new URLSearchParams(location.search).get("event"));
  if (wanted && events.some((e) => e.id === wanted)) return wanted;
  const last = Number(localStorage.getItem("anbao.event"));
  if (last && events.some((e) => e.id === last)) return last;
  const active = events.find((e) => e.status === "active");
  return (active || events[0])?.id ?? null;
}

/** Resolves with {config, vocab, events, store, live} once the first snapshot is in. */
/**
 * What every page does first: messages, login, then {config, vocab, events, eventId} with the time zone
 * set and the chosen event remembered; null (and a message) when there is no event.
 */
export async function startPage() {
  await loadCatalog();
  applyI18n();
  installLogin();
  await ensureSession();
  const [config, vocab, events] = await withLogin(() => Promise.all([api("/ui-config"), api("/meta/vocab"), api("/events")]));
  setTimeZone(config.timezone);
  const eventId = pickEvent(events);
  if (eventId === null) {
    showFatal(t("common.noEvents"));
    return null;
  }
  localStorage.setItem("anbao.event", String(eventId));
  return {config, vocab, events, eventId};
}

export async function boot({onState}) {
  const start = await startPage();
  if (start === null) return null;
  const {config, vocab, events, eventId} = start;
  const store = new Store(eventId);
  store.vocab = vocab;
  store.features = config.features || {};
  const live = new LiveStream(eventId, {
    onMessage: (m) => store.apply(m),
    onState,
    onResync: () => store.load().catch((err) => console.warn("resync", err)),
    onAuthLost: () => expire(),
    instance: config.instance,
  });
  live.start(); // messages that arrive before the snapshot are queued by the store
  await withLogin(() => store.load());
  onLogin(() => {
    live.resume();
    store.load().catch((err) => console.warn("reload after login", err));
  });
  return {config, vocab, events, store, live};
}

export function connLabel(state, detail) {
  if (state === "reconnecting" && detail) return t("conn.retryIn", {s: Math.ceil(detail / 1000)});
  return t(`conn.${state}`);
}
