// 上报警情: type, text, a photo from the phone camera (shrunk in a canvas), the GPS position with its
// accuracy. The report goes into the outbox with a client_key made here, so it is sent once, whenever
// the network allows. Problems with the input are explained next to the field.
import {locate, accuracyForApi} from "./geo.js";
import {shrinkPhoto} from "./photo.js";
import {codes, vocabLabel} from "/js/vocab.js";
import {t} from "./i18n.js";
import {$, $$, dateTime, el, fill, num, uuid} from "./util.js";

const MIN_TEXT = 2;
const MAX_TEXT = 2000;
const POOR_ACCURACY_M = 100;

export class ReportForm {
  constructor({model, outbox, notify}) {
    this.model = model;
    this.outbox = outbox;
    this.notify = notify;
    this.form = $("#report-form");
    this.type = null;
    this.photo = null; // {dataUrl, width, height, bytes}
    this.fix = null;
    this.gpsState = "idle"; // idle | busy | ok | denied | unavailable | timeout | unsupported
    this.busyPhoto = false;
    const text = this.form.text;
    text.addEventListener("input", () => {
      this.counter();
      this.fieldMsg("text", "");
    });
    this.lastKey = null; // client_key of the report last queued from this form (its status line follows it)
    $("#photo-input").addEventListener("change", (ev) => this.takePhoto(ev.target.files?.[0]));
    $("#photo-remove").addEventListener("click", () => this.setPhoto(null));
    $("#gps-refresh").addEventListener("click", () => this.locate(true));
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.renderTypes();
    this.counter();
    this.renderGps();
  }

  /** The incident types of the server's vocabulary (kept on the phone with the rest of its data). */
  typeCodes() {
    return codes("incident_type");
  }

  typeLabel(code) {
    return vocabLabel("incident_type", code, `itype.${code}`);
  }

  renderTypes() {
    const grid = $("#type-grid");
    grid.replaceChildren(...this.typeCodes().map((code) => el("button", {
      type: "button", role: "radio", class: `type-btn t-${code}${this.type === code ? " on" : ""}`,
      "aria-checked": this.type === code ? "true" : "false", dataset: {type: code},
      onclick: () => {
        this.type = code;
        this.fieldMsg("type", "");
        this.renderTypes();
      },
    }, this.typeLabel(code))));
  }

  counter() {
    $("#text-count").textContent = `${this.form.text.value.length}/${MAX_TEXT}`;
  }

  fieldMsg(name, text) {
    const box = this.form.querySelector(`.field-msg[data-for=${name}]`);
    box.textContent = text;
    // every field fixed: the form's "fix the marked fields" line goes too (it was stale)
    if (!text && this.formFix && !$$(".field-msg", this.form).some((b) => b.textContent)) this.formMsg("");
  }

  formMsg(text, cls = "", {fix = false} = {}) {
    const box = $("#report-msg");
    box.textContent = text;
    box.className = `form-msg ${cls}`;
    this.formFix = fix;
  }

  /** The outbox delivered a report: the form's "saved, sending" line becomes "sent as #id". */
  delivered(item, data) {
    if (item.client_key === this.lastKey) this.formMsg(t("report.sentAs", {id: data?.id ?? "?"}), "good");
  }

  /** The server refused a report: the form's line says so instead of "sending". */
  refused(item, status) {
    if (item.client_key === this.lastKey) this.formMsg(t("report.refusedLine", {status}), "bad");
  }

  async takePhoto(file) {
    this.fieldMsg("photo", "");
    if (!file) return;
    this.busyPhoto = true;
    this.fieldMsg("photo", t("report.photoBusy"));
    try {
      this.setPhoto(await shrinkPhoto(file));
      this.fieldMsg("photo", "");
    } catch (err) {
      this.setPhoto(null);
      this.fieldMsg("photo", t(err?.code === "tooBig" ? "report.photoTooBig" : "report.photoBad"));
    } finally {
      this.busyPhoto = false;
      $("#photo-input").value = "";
    }
  }

  setPhoto(photo) {
    this.photo = photo;
    const box = $("#photo-preview");
    box.hidden = !photo;
    if (photo) {
      box.querySelector("img").src = photo.dataUrl;
      box.querySelector("small").textContent = t("report.photoSize", {w: photo.width, h: photo.height, kb: num(photo.bytes / 1024)});
    } else {
      box.querySelector("img").removeAttribute("src");
    }
  }

  /** Ask the phone for a position (on opening the screen and on the button). */
  async locate(force = false) {
    if (this.gpsState === "busy") return;
    if (!force && this.fix && Date.now() - new Date(this.fix.at).getTime() < 30000) return;
    this.gpsState = "busy";
    this.renderGps();
    try {
      this.fix = await locate({maxAgeMs: force ? 0 : 15000});
      this.gpsState = "ok";
    } catch (err) {
      this.gpsState = err?.code || "unavailable";
    }
    this.renderGps();
  }

  renderGps() {
    const box = $("#gps-text");
    box.className = "gps-text";
    if (this.gpsState === "busy") {
      box.textContent = t("gps.busy");
      return;
    }
    if (this.fix) {
      const zone = this.model.zoneAt(this.fix.lon, this.fix.lat);
      const poor = this.fix.accuracy > POOR_ACCURACY_M;
      fill(box, ...[
        el("span", {class: "mono"}, `${this.fix.lon.toFixed(6)}, ${this.fix.lat.toFixed(6)}`),
        el("span", {class: `acc${poor ? " poor" : ""}`}, t("gps.accuracy", {m: num(this.fix.accuracy)})),
        zone ? el("span", {class: "zone"}, zone.name) : null,
        poor ? el("small", {class: "warn"}, t("gps.poor")) : null,
        this.gpsState !== "ok" ? el("small", {class: "warn"}, t(`gps.${this.gpsState}`)) : null,
      ].filter(Boolean));
      return;
    }
    box.classList.add("muted");
    box.textContent = this.gpsState === "idle" ? t("gps.none") : `${t(`gps.${this.gpsState}`)} ${t("gps.without")}`;
  }

  /** Check the input; returns true when it can be queued (messages in the officer's language). */
  validate() {
    let ok = true;
    const text = this.form.text.value.trim();
    if (!this.type) {
      this.fieldMsg("type", t("report.needType"));
      ok = false;
    }
    if (text.length < MIN_TEXT) {
      this.fieldMsg("text", t("report.needText", {n: MIN_TEXT}));
      ok = false;
    } else if (text.length > MAX_TEXT) {
      this.fieldMsg("text", t("report.textTooLong", {n: MAX_TEXT}));
      ok = false;
    }
    if (this.busyPhoto) {
      this.fieldMsg("photo", t("report.photoWait"));
      ok = false;
    }
    if (!this.model.eventId) {
      this.formMsg(t("common.noEvent"), "bad");
      ok = false;
    }
    return ok;
  }

  async submit() {
    this.formMsg("");
    if (!this.validate()) {
      this.formMsg(t("report.fix"), "bad", {fix: true});
      this.form.querySelector(".field-msg:not(:empty)")?.closest("fieldset, .field, label")?.scrollIntoView({block: "center"});
      return;
    }
    const body = {client_key: uuid(), type: this.type, text: this.form.text.value.trim(), at: new Date().toISOString()};
    if (this.fix && Date.now() - new Date(this.fix.at).getTime() < 10 * 60000) {
      body.lon = this.fix.lon;
      body.lat = this.fix.lat;
      body.accuracy_m = accuracyForApi(this.fix.accuracy);
    }
    if (this.model.unitId) body.unit_id = this.model.unitId;
    if (this.photo) body.photo = this.photo.dataUrl;
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await this.outbox.add("incident", `/api/v1/events/${this.model.eventId}/incidents`, body,
        {type: this.type, text: body.text, has_photo: Boolean(this.photo), at: body.at});
    } catch (err) {
      // IndexedDB refused (storage full, private mode): nothing was queued, the form stays filled in
      this.formMsg(t("report.storeFailed", {detail: err?.message || err}), "bad");
      return;
    } finally {
      button.disabled = false;
    }
    this.form.text.value = "";
    this.type = null;
    this.setPhoto(null);
    this.renderTypes();
    this.counter();
    this.lastKey = body.client_key;
    this.formMsg(navigator.onLine === false ? t("report.queuedOffline") : t("report.queued"), "good");
  }

  /** 最近上报: waiting in the outbox, refused by the server, and stored on the server. */
  async renderList() {
    const [waiting, failed] = await Promise.all([this.outbox.items(), this.outbox.failed()]);
    const rows = [];
    for (const f of failed.filter((x) => x.kind === "incident").reverse()) {
      rows.push(el("div", {class: "rep bad", dataset: {key: f.client_key}},
        el("div", {class: "rep-head"}, el("b", {}, this.typeLabel(f.meta.type)),
          el("span", {class: "tag bad"}, t("report.refused", {status: f.status})), el("span", {class: "muted small"}, dateTime(f.created_at))),
        el("div", {class: "rep-text"}, f.meta.text),
        el("div", {class: "err"}, t("outbox.serverSaid", {detail: f.error})),
        el("div", {class: "rep-actions"},
          el("button", {type: "button", class: "btn small", onclick: () => this.outbox.retryFailed(f.seq)}, t("outbox.retry")),
          el("button", {type: "button", class: "btn small ghost", onclick: () => this.dropFailed(f)}, t("outbox.drop")))));
    }
    for (const w of waiting.filter((x) => x.kind === "incident").reverse()) {
      rows.push(el("div", {class: "rep pending", dataset: {key: w.client_key}},
        el("div", {class: "rep-head"}, el("b", {}, this.typeLabel(w.meta.type)),
          el("span", {class: "tag wait"}, t("report.pending")), el("span", {class: "muted small"}, dateTime(w.created_at))),
        el("div", {class: "rep-text"}, w.meta.text),
        w.meta.has_photo ? el("div", {class: "muted small"}, t("report.withPhoto")) : null,
        w.last_error ? el("div", {class: "muted small"}, t("outbox.lastError", {n: w.tries, detail: w.last_error})) : null));
    }
    for (const i of this.model.incidents.slice(0, 20)) {
      rows.push(el("div", {class: "rep sent", dataset: {id: i.id, key: i.client_key}},
        el("div", {class: "rep-head"}, el("b", {}, this.typeLabel(i.type)),
          el("span", {class: `tag st-${i.status}`}, t(`istatus.${i.status}`)), el("span", {class: "muted small"}, dateTime(i.reported_at))),
        el("div", {class: "rep-text"}, i.text),
        el("div", {class: "muted small"}, [`#${i.id}`, i.has_photo ? t("report.withPhoto") : null,
          i.zone_id ? this.model.zones.get(i.zone_id)?.name : null].filter(Boolean).join(" · "))));
    }
    const list = $("#report-list");
    fill(list, ...(rows.length ? rows : [el("p", {class: "empty"}, t("report.none"))]));
  }

  async dropFailed(f) {
    if (!confirm(t("outbox.dropConfirm"))) return;
    await this.outbox.dropFailed(f.seq);
  }

  relabel() {
    this.renderTypes();
    this.counter();
    this.renderGps();
    if (this.photo) this.setPhoto(this.photo);
    for (const box of $$(".field-msg", this.form)) box.textContent = "";
  }
}
