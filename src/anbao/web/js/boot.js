// Start-up of the live pages (the command map and the wall): the page shell, then the store of the event
// and its live stream. A page module calls boot() and builds its views on the result.
import {onLang} from "./i18n.js";
import {LiveStream} from "./live.js";
import {expire, onLogin} from "./session.js";
import {showConn, startPage, withLogin} from "./shell.js";
import {Store} from "./store.js";

/** Resolves with {config, events, store, live} once the first snapshot is in; null when there is no event. */
export async function boot({login} = {}) {
  const start = await startPage({login});
  if (start === null) return null;
  const {config, events, eventId} = start;
  const store = new Store(eventId);
  store.features = config.features || {};
  const live = new LiveStream(eventId, {
    onMessage: (m) => store.apply(m),
    onState: showConn,
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
  onLang(() => showConn(live.state));
  return {config, events, store, live};
}
