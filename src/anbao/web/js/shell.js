// The page shell of /, /wall/ and /plan/: what every page does first (catalogs, the login dialog, the
// session, settings, the vocabularies, the event to show) and the parts of the top bar they share (language
// switch, user, logout, event choice, connection state, the fatal-error box). A page module calls
// run(main); main() calls startPage() (or boot() of js/boot.js for the live pages) and builds its views.
import {api, AuthError} from "./api.js";
import {el, setTimeZone} from "./format.js";
import {applyI18n, langButtons, loadCatalog, onLang, t} from "./i18n.js";
import {actorName} from "./roles.js";
import {currentUser, ensureSession, login, logout, mountLogin, onLogin} from "./session.js";
import {setVocab} from "./vocab.js";

const $ = (s) => document.querySelector(s);

export function showFatal(message, retry) {
  let box = $("#fatal");
  if (!box) {
    box = el("div", {id: "fatal", class: "fatal", hidden: true});
    document.body.append(box);
  }
  box.replaceChildren(el("p", {}, message));
  if (retry) {
    box.append(el("button", {class: "btn", type: "button", onclick: () => {
      box.hidden = true;
      retry();
    }}, t("common.retry")));
  }
  box.hidden = false;
}

/** Run the page's ``main()``; a failure to start is shown with a button to reload. */
export function run(main) {
  main().catch((err) => {
    console.error(err);
    showFatal(t("error.start", {detail: err.message || String(err)}), () => location.reload());
  });
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

/** The live stream's state in the top bar's #conn (when the page has one). */
export function showConn(state, detail) {
  const box = $("#conn");
  if (!box) return;
  box.className = `conn c-${state}`;
  box.querySelector("span").textContent = state === "reconnecting" && detail
    ? t("conn.retryIn", {s: Math.ceil(detail / 1000)}) : t(`conn.${state}`);
  box.dataset.state = state;
}

function showUser() {
  const u = currentUser();
  // the display name (张警官) once the names are known (roles.js), the login name until then
  $("#user").textContent = u ? `${actorName(`user:${u.username}`)} · ${t(`role.${u.role}`)}` : "";
  if (u) $("#user").title = u.username;
}

/** The top bar's event choice (#event-select, shown when there is more than one event). */
function eventChoice(events, eventId) {
  const sel = $("#event-select");
  if (!sel || events.length < 2) return;
  sel.replaceChildren(...events.map((e) => el("option", {value: e.id, selected: e.id === eventId}, e.name)));
  sel.hidden = false;
  sel.addEventListener("change", () => {
    localStorage.setItem("anbao.event", sel.value);
    location.search = `?event=${sel.value}${location.hash}`;
  });
}

/**
 * What every page does first: messages, the login dialog (``login``: its title and subtitle keys and whether
 * it links the API docs), the session, then settings, vocabularies (kept in js/vocab.js) and events. Resolves
 * with {config, events, eventId}, the time zone set and the chosen event remembered; null (and a message)
 * when there is no event.
 */
export async function startPage({login: dialog} = {}) {
  await loadCatalog();
  applyI18n();
  mountLogin(dialog);
  langButtons();
  $("#logout")?.addEventListener("click", () => logout());
  await ensureSession();
  const [config, vocab, events] = await withLogin(() => Promise.all([api("/ui-config"), api("/meta/vocab"), api("/events")]));
  setVocab(vocab);
  setTimeZone(config.timezone);
  if ($("#user")) {
    showUser();
    onLogin(showUser);
    onLang(showUser);
    document.addEventListener("anbao:names", showUser);
  }
  const eventId = pickEvent(events);
  if (eventId === null) {
    showFatal(t("common.noEvents"));
    return null;
  }
  localStorage.setItem("anbao.event", String(eventId));
  eventChoice(events, eventId);
  return {config, events, eventId};
}
