// 预案 "1+N": the event's master plan and special plans, new plans from templates, and the editor of one
// plan (basic facts, the nine Art. 6 sections of the master plan, triggers, steps, units, equipment,
// partners, map references, evacuation routes), saved with PATCH; refused fields are marked in place.
import {api} from "../api.js";
import {el} from "../format.js";
import {t} from "../i18n.js";
import {vocabLabel, vocabOptions} from "../vocab.js";
import {clearErrors, sayDone, showErrors} from "./errors.js";
import {MultiSelect, boundInput, confirmBox, field, rowsEditor, selectEl} from "./ui.js";

/** The nine items of Art. 6 in order; titles are plan.sec.<key> in the catalogs. */
export const SECTIONS = ["overview", "staffing", "fire", "capacity", "buffer", "screening", "traffic", "order", "emergency"];
export const TO_FILL = "\u3010\u5f85\u586b\u5199\u3011"; // the template's mark of text still to write
const root = () => document.getElementById("pane-plans");

function unwritten(text) {
  return !text?.trim() || text.includes(TO_FILL);
}

/** A plan as the editor's draft: every field present, copies of the lists. */
function draftOf(p) {
  const tr = p.triggers || {};
  return {
    name: p.name, kind: p.kind, command_node_id: p.command_node_id, description: p.description || "",
    steps: (p.steps || []).map((s) => ({title: s.title, detail: s.detail || "", node_code: s.node_code ?? null, due_min: s.due_min ?? null})),
    triggers: {incident_types: [...(tr.incident_types || [])], min_grade: tr.min_grade ?? null,
      zone_kinds: [...(tr.zone_kinds || [])], hours: tr.hours ? [...tr.hours] : null},
    unit_ids: [...(p.unit_ids || [])],
    equipment: (p.equipment || []).map((e) => ({name: e.name, quantity: e.quantity ?? 1, note: e.note || ""})),
    partners: (p.partners || []).map((x) => ({name: x.name, role: x.role || "", contact: x.contact || ""})),
    map_refs: {zones: [...(p.map_refs?.zones || [])], routes: (p.map_refs?.routes || []).map((r) => ({...r}))},
    evacuation_routes: (p.evacuation_routes || []).map((r) => ({...r, from_zones: [...(r.from_zones || [])],
      exits: [...(r.exits || [])], to_zone: r.to_zone ?? null, note: r.note || ""})),
    sections: p.kind === "master" ? Object.fromEntries(SECTIONS.map((k) => [k, p.sections?.[k] ?? ""])) : {...(p.sections || {})},
  };
}

function bodyOf(d) {
  const text = (s) => (s || "").trim();
  const body = {
    name: text(d.name), kind: d.kind, command_node_id: d.command_node_id, description: text(d.description),
    steps: d.steps.map((s) => ({title: text(s.title), detail: text(s.detail), node_code: s.node_code || null,
      due_min: s.due_min === null || s.due_min === "" ? null : Number(s.due_min)})),
    triggers: {incident_types: d.triggers.incident_types, min_grade: d.triggers.min_grade || null,
      zone_kinds: d.triggers.zone_kinds, hours: d.triggers.hours},
    unit_ids: d.unit_ids,
    equipment: d.equipment.map((e) => ({name: text(e.name), quantity: e.quantity === null ? 0 : Number(e.quantity), note: text(e.note)})),
    partners: d.partners.map((x) => ({name: text(x.name), role: text(x.role), contact: text(x.contact)})),
    map_refs: d.map_refs,
    evacuation_routes: d.evacuation_routes.map((r) => ({...r, name: text(r.name), note: text(r.note), to_zone: r.to_zone || null})),
  };
  if (d.kind === "master" || Object.keys(d.sections).length) body.sections = d.sections;
  return body;
}

export class PlansTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.plans = [];
    this.templates = null;
    this.selected = null;
    this.draft = null;
    this.dirty = false;
    this.pickers = [];
    const r = root();
    this.list = r.querySelector(".plist");
    this.body = r.querySelector(".pe-body");
    this.msg = r.querySelector(".pe-msg");
    r.querySelector(".pe-save").addEventListener("click", () => this.save());
    r.querySelector(".pe-delete").addEventListener("click", () => this.remove());
    r.querySelector("#tpl-open").addEventListener("click", () => this.openTemplateForm());
    this.setupTemplateForm();
  }

  async show() {
    const [plans, templates] = await Promise.all([api(this.ctx.url("/plans"), {query: {limit: 5000}}),
      this.templates ? Promise.resolve(this.templates) : api("/plan-templates")]);
    this.templates = templates;
    this.setPlans(plans);
    if (this.selected === null || !this.plans.some((p) => p.id === this.selected)) {
      this.selected = this.plans[0]?.id ?? null;
      this.dirty = false;
    }
    if (!this.dirty) this.loadDraft();
    this.renderList();
    this.renderEditor();
  }

  async leave() {
    if (!this.dirty) return true;
    if (!(await confirmBox(t("plan.plans.discard"), t("plan.plans.discardOk")))) return false;
    this.setDirty(false);
    this.loadDraft();
    return true;
  }

  relabel() {
    if (!this.templates) return;
    this.renderList();
    this.renderEditor();
    this.fillTemplates();
  }

  setPlans(plans) {
    const master = plans.filter((p) => p.kind === "master").sort((a, b) => a.code.localeCompare(b.code));
    const special = plans.filter((p) => p.kind !== "master").sort((a, b) => a.code.localeCompare(b.code));
    this.plans = [...master, ...special];
  }

  plan() {
    return this.plans.find((p) => p.id === this.selected) || null;
  }

  loadDraft() {
    const p = this.plan();
    this.draft = p ? draftOf(p) : null;
  }

  setDirty(on) {
    this.dirty = on;
    root().querySelector(".pe-dirty").hidden = !on;
    root().querySelector(".pe-save").disabled = !on;
  }

  // -------------------------------------------------------------- list

  renderList() {
    const item = (p) => {
      const node = this.ctx.nodeById.get(p.command_node_id);
      const open = p.kind === "master" ? SECTIONS.filter((k) => unwritten(p.sections?.[k])).length : 0;
      return el("div", {class: `pl-item${p.id === this.selected ? " sel" : ""}${p.kind === "master" ? " master" : ""}`,
        dataset: {id: p.id, code: p.code}, tabindex: "0", role: "button",
        onclick: () => this.select(p.id), onkeydown: (ev) => ev.key === "Enter" && this.select(p.id)},
      el("div", {class: "pl-top"}, el("span", {class: "mono pl-code"}, p.code),
        el("span", {class: `chip kind k-${p.kind}`}, vocabLabel("plan_kind", p.kind))),
      el("div", {class: "pl-name"}, p.name),
      el("div", {class: "pl-meta"},
        el("span", {}, node ? node.name : t("plan.plans.noNode")),
        el("span", {}, t("plan.plans.stepsN", {n: p.steps.length})),
        p.unit_ids?.length ? el("span", {}, t("plan.plans.unitsN", {n: p.unit_ids.length})) : null,
        open ? el("span", {class: "todo"}, t("plan.plans.toFillN", {n: open})) : null));
    };
    const master = this.plans.filter((p) => p.kind === "master");
    const special = this.plans.filter((p) => p.kind !== "master");
    const parts = [el("div", {class: "pl-group"}, el("b", {}, "1"), t("plan.plans.master"))];
    if (master.length) parts.push(...master.map(item));
    else {
      parts.push(el("div", {class: "pl-missing"}, el("div", {}, t("plan.plans.noMaster")),
        this.ctx.canEdit ? el("button", {type: "button", class: "btn small", onclick: () => this.openTemplateForm("TPL-ZT")},
          t("plan.plans.newMaster")) : null));
    }
    parts.push(el("div", {class: "pl-group"}, el("b", {}, "N"), t("plan.plans.special", {n: special.length})));
    parts.push(...special.map(item));
    if (!special.length) parts.push(el("div", {class: "empty"}, t("plan.plans.noSpecial")));
    this.list.replaceChildren(...parts);
    root().querySelector("#plan-count").textContent = t("plan.plans.count", {m: master.length, n: special.length});
  }

  async select(id) {
    if (id === this.selected) return;
    if (this.dirty && !(await confirmBox(t("plan.plans.discard"), t("plan.plans.discardOk")))) return;
    this.selected = id;
    this.setDirty(false);
    this.loadDraft();
    clearErrors(root().querySelector("#plan-editor"));
    this.renderList();
    this.renderEditor();
    this.body.scrollTop = 0;
  }

  // -------------------------------------------------------------- editor

  renderEditor() {
    for (const p of this.pickers) p.destroy();
    this.pickers = [];
    const r = root();
    const p = this.plan();
    const d = this.draft;
    const edit = this.ctx.canEdit;
    r.querySelector(".pe-save").hidden = !p || !edit;
    r.querySelector(".pe-delete").hidden = !p || !edit;
    r.querySelector(".pe-dirty").hidden = !this.dirty;
    r.querySelector(".pe-save").disabled = !this.dirty;
    const title = r.querySelector(".pe-title");
    if (!p || !d) {
      title.textContent = t("plan.plans.editor");
      this.body.replaceChildren(el("div", {class: "empty"}, el("div", {class: "empty-title"}, t("plan.plans.none")),
        edit ? el("div", {}, t("plan.plans.noneHint")) : null));
      return;
    }
    title.replaceChildren(el("span", {class: "mono"}, p.code), " ", d.name || p.name);
    const changed = () => this.setDirty(true);
    const ro = !edit;
    const cards = [];

    // basic facts
    const nodeOpts = this.ctx.nodes.map((n) => ({value: n.id, label: `${n.code} · ${n.name}`}));
    const kindSel = selectEl(vocabOptions("plan_kind"), d.kind, {disabled: ro});
    kindSel.addEventListener("change", () => {
      d.kind = kindSel.value;
      if (d.kind === "master") for (const k of SECTIONS) d.sections[k] ??= "";
      changed();
      this.renderEditor();
    });
    const nodeSel = selectEl(nodeOpts, d.command_node_id, {blank: t("plan.plans.noNode"), disabled: ro});
    nodeSel.addEventListener("change", () => {
      d.command_node_id = nodeSel.value ? Number(nodeSel.value) : null;
      changed();
    });
    const nameIn = boundInput(d, "name", {readOnly: ro, maxlength: 200, onChange: changed});
    cards.push(el("section", {class: "card wide"}, el("h3", {}, t("plan.plans.basic")),
      el("div", {class: "form-row three"},
        field(t("plan.plans.name"), nameIn, "name"),
        field(t("plan.plans.kind"), kindSel, "kind"),
        field(t("plan.plans.node"), nodeSel, "command_node_id")),
      field(t("plan.plans.description"), boundInput(d, "description", {type: "textarea", rows: 2, readOnly: ro, maxlength: 5000, onChange: changed}),
        "description"),
      p.template ? el("div", {class: "muted small"}, t("plan.plans.fromTpl", {code: p.template})) : null));

    // the nine Art. 6 sections (master plan)
    if (d.kind === "master") {
      const open = SECTIONS.filter((k) => unwritten(d.sections[k])).length;
      const head = el("h3", {}, t("plan.plans.sections"), el("span", {class: `sec-count${open ? " todo" : " done"}`},
        open ? t("plan.plans.sectionsOpen", {n: open}) : t("plan.plans.sectionsDone")));
      const secs = SECTIONS.map((k, i) => {
        const ta = boundInput(d.sections, k, {type: "textarea", rows: 3, readOnly: ro, maxlength: 20000, name: `section-${k}`,
          onChange: () => {
            changed();
            mark();
          }});
        const state = el("span", {class: "chip sec-state"});
        const box = el("div", {class: "sec", dataset: {field: `sections.${k}`, section: k}},
          el("div", {class: "sec-head"}, el("span", {class: "sec-no"}, t(`plan.secNo.${i + 1}`)),
            el("span", {class: "sec-title"}, t(`plan.sec.${k}`)), state), ta, el("em", {class: "fmsg"}));
        const mark = () => {
          const todo = unwritten(d.sections[k]);
          box.classList.toggle("unwritten", todo);
          state.textContent = t(todo ? "plan.plans.toFill" : "plan.plans.written");
          const n = SECTIONS.filter((x) => unwritten(d.sections[x])).length;
          head.querySelector(".sec-count").textContent = n ? t("plan.plans.sectionsOpen", {n}) : t("plan.plans.sectionsDone");
          head.querySelector(".sec-count").className = `sec-count${n ? " todo" : " done"}`;
        };
        mark();
        return box;
      });
      cards.push(el("section", {class: "card wide sections"}, head, el("p", {class: "muted small"}, t("plan.plans.sectionsHint")),
        el("div", {class: "secs"}, secs)));
    }

    // triggers
    const tr = d.triggers;
    const types = new MultiSelect({options: vocabOptions("incident_type"), value: tr.incident_types, disabled: ro,
      placeholder: t("plan.plans.anyType"), onChange: (x) => {
        tr.incident_types = x;
        changed();
      }});
    const kinds = new MultiSelect({options: vocabOptions("zone_kind"), value: tr.zone_kinds, disabled: ro,
      placeholder: t("plan.plans.anywhere"), onChange: (x) => {
        tr.zone_kinds = x;
        changed();
      }});
    this.pickers.push(types, kinds);
    const grade = selectEl(vocabOptions("incident_grade"), tr.min_grade, {blank: t("plan.plans.anyGrade"), disabled: ro});
    grade.addEventListener("change", () => {
      tr.min_grade = grade.value || null;
      changed();
    });
    const hoursOn = el("input", {type: "checkbox", checked: Boolean(tr.hours), disabled: ro});
    const hFrom = el("input", {type: "number", min: 0, max: 24, step: 1, class: "short", disabled: ro || !tr.hours});
    const hTo = el("input", {type: "number", min: 0, max: 24, step: 1, class: "short", disabled: ro || !tr.hours});
    hFrom.value = tr.hours ? tr.hours[0] : "";
    hTo.value = tr.hours ? tr.hours[1] : "";
    const readHours = () => {
      hFrom.disabled = hTo.disabled = ro || !hoursOn.checked;
      tr.hours = hoursOn.checked ? [hFrom.value === "" ? 0 : Number(hFrom.value), hTo.value === "" ? 24 : Number(hTo.value)] : null;
      changed();
    };
    for (const x of [hoursOn, hFrom, hTo]) x.addEventListener("input", readHours);
    cards.push(el("section", {class: "card"}, el("h3", {}, t("plan.plans.triggers")),
      el("div", {class: "fld", dataset: {field: "triggers.incident_types"}}, el("span", {}, t("plan.plans.incidentTypes")), types.el, el("em", {class: "fmsg"})),
      el("div", {class: "form-row"},
        field(t("plan.plans.minGrade"), grade, "triggers.min_grade"),
        el("div", {class: "fld", dataset: {field: "triggers.hours"}}, el("span", {}, t("plan.plans.hours")),
          el("div", {class: "hours"}, el("label", {class: "check"}, hoursOn, t("plan.plans.hoursOn")), hFrom, "\u2013", hTo),
          el("em", {class: "fmsg"}))),
      el("div", {class: "fld", dataset: {field: "triggers.zone_kinds"}}, el("span", {}, t("plan.plans.zoneKinds")), kinds.el, el("em", {class: "fmsg"})),
      el("p", {class: "muted small"}, t("plan.plans.triggersHint"))));

    // units and map references, stacked next to the triggers
    const stackAt = cards.length;
    const units = new MultiSelect({options: this.ctx.units.map((u) => ({value: u.id, label: `${u.call_sign} ${u.name}`, short: u.call_sign,
      hint: this.ctx.nodeById.get(u.command_node_id)?.name || u.agency || "", group: vocabLabel("police_type", u.police_type)})),
    value: d.unit_ids, disabled: ro, placeholder: t("plan.plans.noUnits"), maxChips: 18, onChange: (x) => {
      d.unit_ids = x;
      changed();
      unitNote.textContent = t("plan.plans.unitsPicked", {n: x.length});
    }});
    this.pickers.push(units);
    const unitNote = el("small", {class: "muted"}, t("plan.plans.unitsPicked", {n: d.unit_ids.length}));
    const unitsCard = el("section", {class: "card"}, el("h3", {}, t("plan.plans.units")),
      el("div", {class: "fld", dataset: {field: "unit_ids"}}, units.el, unitNote, el("em", {class: "fmsg"})));

    // steps
    const nodeCodes = this.ctx.nodes.map((n) => ({value: n.code, label: `${n.code} · ${n.name}`}));
    cards.push(el("section", {class: "card wide"}, el("h3", {}, t("plan.plans.steps"), el("span", {class: "count"}, t("plan.plans.stepsN", {n: d.steps.length}))),
      rowsEditor({items: d.steps, path: "steps", readOnly: ro, order: true, onChange: changed, addLabel: t("plan.plans.addStep"),
        empty: t("plan.plans.noSteps"), make: () => ({title: "", detail: "", node_code: null, due_min: null}),
        columns: [
          {key: "title", label: t("plan.plans.stepTitle"), cls: "w-title", input: (s) => boundInput(s, "title", {readOnly: ro, maxlength: 200, onChange: changed})},
          {key: "detail", label: t("plan.plans.stepDetail"), input: (s) => boundInput(s, "detail", {readOnly: ro, maxlength: 2000, onChange: changed})},
          {key: "node_code", label: t("plan.plans.stepNode"), cls: "w-node", input: (s) => {
            const sel = selectEl(nodeCodes, s.node_code, {blank: t("plan.plans.planNode"), disabled: ro});
            sel.addEventListener("change", () => {
              s.node_code = sel.value || null;
              changed();
            });
            return sel;
          }},
          {key: "due_min", label: t("plan.plans.stepDue"), cls: "w-num", input: (s) => boundInput(s, "due_min", {type: "number", min: 0, max: 1440,
            step: 1, readOnly: ro, onChange: changed})},
        ]})));

    // equipment and partners
    cards.push(el("section", {class: "card"}, el("h3", {}, t("plan.plans.equipment")),
      rowsEditor({items: d.equipment, path: "equipment", readOnly: ro, onChange: changed, addLabel: t("plan.plans.addEquipment"),
        make: () => ({name: "", quantity: 1, note: ""}), columns: [
          {key: "name", label: t("plan.plans.eqName"), input: (e) => boundInput(e, "name", {readOnly: ro, maxlength: 200, onChange: changed})},
          {key: "quantity", label: t("plan.plans.eqQty"), cls: "w-num", input: (e) => boundInput(e, "quantity", {type: "number", min: 0, step: 1, readOnly: ro, onChange: changed})},
          {key: "note", label: t("plan.plans.eqNote"), input: (e) => boundInput(e, "note", {readOnly: ro, maxlength: 500, onChange: changed})},
        ]})));
    cards.push(el("section", {class: "card"}, el("h3", {}, t("plan.plans.partners")),
      rowsEditor({items: d.partners, path: "partners", readOnly: ro, onChange: changed, addLabel: t("plan.plans.addPartner"),
        make: () => ({name: "", role: "", contact: ""}), columns: [
          {key: "name", label: t("plan.plans.ptName"), input: (x) => boundInput(x, "name", {readOnly: ro, maxlength: 200, onChange: changed})},
          {key: "role", label: t("plan.plans.ptRole"), input: (x) => boundInput(x, "role", {readOnly: ro, maxlength: 500, onChange: changed})},
          {key: "contact", label: t("plan.plans.ptContact"), input: (x) => boundInput(x, "contact", {readOnly: ro, maxlength: 200, onChange: changed})},
        ]})));

    // map references
    const zoneOpts = this.ctx.zones.map((z) => ({value: z.code, label: z.name, short: z.name, hint: z.code,
      group: vocabLabel("zone_kind", z.kind)})).sort((a, b) => a.group.localeCompare(b.group) || a.hint.localeCompare(b.hint));
    const refs = new MultiSelect({options: zoneOpts, value: d.map_refs.zones, disabled: ro, placeholder: t("plan.plans.noZones"),
      onChange: (x) => {
        d.map_refs.zones = x;
        changed();
      }});
    this.pickers.push(refs);
    const refsCard = el("section", {class: "card"}, el("h3", {}, t("plan.plans.mapRefs")),
      el("div", {class: "fld", dataset: {field: "map_refs.zones"}}, el("span", {}, t("plan.plans.refZones")), refs.el, el("em", {class: "fmsg"})),
      d.map_refs.routes.length ? el("div", {class: "muted small"}, t("plan.plans.refRoutes", {n: d.map_refs.routes.length,
        names: d.map_refs.routes.map((x) => x.name).join(t("plan.listSep"))})) : null);
    cards.splice(stackAt, 0, el("div", {class: "card-stack"}, unitsCard, refsCard));

    // evacuation routes
    const gateOpts = this.ctx.gates.map((g) => ({value: g.code, label: `${g.code} ${g.name}`, short: g.code,
      group: vocabLabel("gate_kind", g.kind)})).sort((a, b) => a.group.localeCompare(b.group) || a.value.localeCompare(b.value));
    const pick = (opts, route, key, ph) => {
      const ms = new MultiSelect({options: opts, value: route[key], disabled: ro, placeholder: ph, maxChips: 4, onChange: (x) => {
        route[key] = x;
        changed();
      }});
      this.pickers.push(ms);
      return ms.el;
    };
    cards.push(el("section", {class: "card wide"}, el("h3", {}, t("plan.plans.evacRoutes")),
      rowsEditor({items: d.evacuation_routes, path: "evacuation_routes", readOnly: ro, onChange: () => {
        changed();
      }, addLabel: t("plan.plans.addRoute"), empty: t("plan.plans.noRoutes"),
      make: () => ({name: "", from_zones: [], exits: [], to_zone: null, note: ""}), columns: [
        {key: "name", label: t("plan.plans.rtName"), cls: "w-title", input: (x) => boundInput(x, "name", {readOnly: ro, maxlength: 200, onChange: changed})},
        {key: "from_zones", label: t("plan.plans.rtFrom"), cls: "w-ms", input: (x) => pick(zoneOpts, x, "from_zones", t("plan.plans.pickZones"))},
        {key: "exits", label: t("plan.plans.rtExits"), cls: "w-ms", input: (x) => pick(gateOpts, x, "exits", t("plan.plans.pickExits"))},
        {key: "to_zone", label: t("plan.plans.rtTo"), cls: "w-node", input: (x) => {
          const sel = selectEl(zoneOpts.map((o) => ({value: o.value, label: `${o.label} (${o.value})`})), x.to_zone,
            {blank: t("plan.plans.pickAssembly"), disabled: ro});
          sel.addEventListener("change", () => {
            x.to_zone = sel.value || null;
            changed();
          });
          return sel;
        }},
        {key: "note", label: t("plan.plans.rtNote"), input: (x) => boundInput(x, "note", {readOnly: ro, maxlength: 500, onChange: changed})},
      ]})));

    this.body.replaceChildren(el("div", {class: "pe-cards"}, cards));
  }

  async save() {
    const p = this.plan();
    if (!p || !this.draft) return;
    const editor = root().querySelector("#plan-editor");
    clearErrors(editor);
    const button = root().querySelector(".pe-save");
    button.disabled = true;
    try {
      const saved = await api(this.ctx.url(`/plans/${p.id}`), {method: "PATCH", body: bodyOf(this.draft)});
      this.setPlans(this.plans.map((x) => (x.id === saved.id ? saved : x)));
      this.setDirty(false);
      this.loadDraft();
      this.renderList();
      this.renderEditor();
      sayDone(this.msg, t("plan.plans.saved", {code: saved.code}));
      this.ctx.changed("plans");
    } catch (err) {
      showErrors(editor, err, this.msg);
      button.disabled = false;
    }
  }

  async remove() {
    const p = this.plan();
    if (!p) return;
    if (!(await confirmBox(t("plan.plans.deleteConfirm", {code: p.code, name: p.name}), t("plan.plans.delete")))) return;
    try {
      await api(this.ctx.url(`/plans/${p.id}`), {method: "DELETE"});
      this.selected = null;
      this.setDirty(false);
      this.ctx.toast(t("plan.plans.deleted", {code: p.code}));
      this.ctx.changed("plans");
      await this.show();
    } catch (err) {
      showErrors(root().querySelector("#plan-editor"), err, this.msg);
    }
  }

  // -------------------------------------------------------------- from a template

  fillTemplates() {
    const form = root().querySelector("#tpl-form");
    const keep = form.template.value;
    const tpls = [...(this.templates || [])].sort((a, b) => (a.kind === "master" ? 0 : 1) - (b.kind === "master" ? 0 : 1)
      || a.code.localeCompare(b.code));
    const sel = selectEl(tpls.map((x) => ({value: x.code, label: `${x.code} · ${x.name}`})), keep, {name: "template",
      blank: t("plan.plans.pickTemplate")});
    sel.addEventListener("change", () => this.templatePicked());
    form.template.replaceWith(sel);
    this.templatePicked(false);
  }

  templatePicked(suggest = true) {
    const form = root().querySelector("#tpl-form");
    const tpl = (this.templates || []).find((x) => x.code === form.template.value);
    const box = form.querySelector(".tpl-preview");
    if (!tpl) {
      box.textContent = "";
      return;
    }
    const c = tpl.content || {};
    box.replaceChildren(el("span", {class: `chip kind k-${tpl.kind}`}, vocabLabel("plan_kind", tpl.kind)), " ",
      c.description || "", " ", t("plan.plans.tplFacts", {steps: (c.steps || []).length, eq: (c.equipment || []).length,
        pt: (c.partners || []).length}));
    form.name.placeholder = tpl.name;
    if (suggest) form.code.value = this.suggestCode(tpl);
  }

  suggestCode(tpl) {
    const taken = new Set(this.plans.map((p) => p.code));
    const base = tpl.kind === "master" ? "ZT" : `YA-${tpl.code.replace(/^TPL-/, "")}`;
    if (!taken.has(base) && tpl.kind !== "master") return base;
    for (let n = 1; ; n++) {
      const code = `${base}-${String(n).padStart(2, "0")}`;
      if (!taken.has(code)) return code;
    }
  }

  openTemplateForm(code) {
    const form = root().querySelector("#tpl-form");
    if (!form.template.options.length || form.template.options.length === 1) this.fillTemplates();
    clearErrors(form);
    if (code) {
      form.template.value = code;
      this.templatePicked();
    }
    form.hidden = false;
    root().querySelector("#tpl-open").hidden = true;
    form.template.focus();
  }

  closeTemplateForm() {
    const form = root().querySelector("#tpl-form");
    form.hidden = true;
    root().querySelector("#tpl-open").hidden = false;
  }

  setupTemplateForm() {
    const form = root().querySelector("#tpl-form");
    form.querySelector(".tpl-cancel").addEventListener("click", () => this.closeTemplateForm());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      if (this.dirty && !(await confirmBox(t("plan.plans.discard"), t("plan.plans.discardOk")))) return;
      const body = {code: form.code.value.trim()};
      if (form.template.value) body.template = form.template.value;
      if (form.name.value.trim()) body.name = form.name.value.trim();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const p = await api(this.ctx.url("/plans/from-template"), {method: "POST", body});
        form.reset();
        this.closeTemplateForm();
        this.ctx.toast(t("plan.plans.created", {code: p.code, name: p.name}));
        this.selected = p.id;
        this.setDirty(false);
        this.ctx.changed("plans");
        await this.show();
        this.list.querySelector(".pl-item.sel")?.scrollIntoView({block: "nearest"});
      } catch (err) {
        showErrors(form, err);
      } finally {
        button.disabled = false;
      }
    });
  }
}
