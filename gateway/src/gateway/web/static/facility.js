import { ROLES, ZONES, api, attempt, debounce, fill, h, live, money, signOut, stateName, toast, when } from "/static/app.js";

let me, facility, facilities = [];

function options(select, values, labels = {}) {
  fill(select, values.map((v) => h("option", { value: v }, labels[v] || v)));
}

async function start() {
  me = await api("/v1/me");
  const organization = await api(`/v1/organizations/${me.organization_id}`);
  facilities = await Promise.all(organization.facility_ids.map((id) => api(`/v1/facilities/${id}`)));
  const picker = h("select", { id: "facility-picker", "aria-label": "Facility", onchange: (e) => choose(e.target.value) },
    facilities.map((f) => h("option", { value: f.facility_id }, `${f.name} (${f.zone})`)));
  fill(document.getElementById("who"), h("span", {}, `${me.name} · ${organization.organization.name}`),
    facilities.length > 1 ? picker : null, h("button", { type: "button", onclick: signOut }, "Sign out"));
  const states = (await api("/v1/jurisdictions")).jurisdictions;
  options(document.getElementById("s-where"), states);
  options(document.getElementById("f-state"), states);
  options(document.getElementById("f-zone"), ZONES);
  options(document.getElementById("s-role"), Object.keys(ROLES), ROLES);
  options(document.getElementById("heat-role"), Object.keys(ROLES), ROLES);
  document.getElementById("no-facility").hidden = facilities.length > 0;
  document.getElementById("post").hidden = facilities.length === 0;
  if (facilities.length) await choose(facilities[0].facility_id);
  live(onChange);
  await notifications();
}

async function choose(id) {
  facility = facilities.find((f) => f.facility_id === id);
  document.getElementById("zone-note").textContent = `in ${facility.zone} time`;
  document.getElementById("s-where").value = facility.jurisdictions[0] || "";
  document.getElementById("dnr").value = facility.do_not_return.join(", ");
  document.getElementById("fav").value = facility.favourites.join(", ");
  const tomorrow = new Date(Date.now() + 86400000);
  document.getElementById("s-date").value = tomorrow.toISOString().slice(0, 10);
  await Promise.all([shifts(), heat()]);
}

async function shifts() {
  const roster = await api(`/v1/facilities/${facility.facility_id}/roster`);
  const rows = await Promise.all(roster.entries.map(async (entry) => {
    const shift = entry.shift;
    let state = stateName(shift.state);
    let status = { booked: entry.bookings.length, offers_out: 0 };
    if (state !== "cancelled") status = await api(`/v1/shifts/${shift.shift_id}/status`);
    if (state === "open" && status.booked >= shift.positions) state = "filled";
    return h("tr", { "data-shift-id": shift.shift_id, "data-state": state, "data-booked": status.booked },
      h("td", { title: `UTC ${shift.interval.start}` }, `${entry.local_start.local.replace("T", " ")} – ${entry.local_end.local.slice(11)}`),
      h("td", {}, ROLES[shift.profession] || shift.profession),
      h("td", {}, shift.patient_jurisdictions.join(", ") || "—"),
      h("td", { class: "fill" }, `${status.booked} / ${shift.positions}`),
      h("td", { class: "offers-out" }, String(status.offers_out)),
      h("td", {}, h("span", { class: `pill ${state}` }, state)),
      h("td", {}, state === "open" ? h("button", { type: "button", class: "secondary", onclick: () => whyUnfilled(shift) }, "Why unfilled?") : null,
        " ", state !== "cancelled" ? h("button", { type: "button", class: "danger", onclick: () => cancel(shift) }, "Cancel") : null));
  }));
  fill(document.querySelector("#shifts tbody"), rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No shifts yet.")));
}

async function whyUnfilled(shift) {
  const answer = await api(`/v1/shifts/${shift.shift_id}/unfilled`);
  fill(document.getElementById("shift-detail"), h("h3", {}, "Why it is not filled"),
    h("ul", {}, answer.reasons.map((r) => h("li", {}, r))),
    h("p", { class: "muted" }, `${answer.clinicians_fit} clinician(s) fit this shift.`));
}

async function cancel(shift) {
  const preview = await api(`/v1/shifts/${shift.shift_id}/cancellation`);
  const owed = preview.released.map((r) => `${r.booking.clinician_id} is owed ${money(r.compensation_cents)}`);
  const said = owed.length ? `Cancelling now releases ${owed.length} booking(s): ${owed.join("; ")}.` : "No one is booked: no compensation is due.";
  if (!confirm(`Cancel this shift? ${said}\n\n${preview.policy}`)) return;
  const answer = await api(`/v1/shifts/${shift.shift_id}/cancel`, { method: "POST", body: { reason: "cancelled by the facility", expected_version: shift.version } });
  const paid = answer.released.map((r) => `${r.booking.clinician_id}: ${money(r.compensation_cents)}`);
  fill(document.getElementById("shift-detail"), h("h3", {}, "Shift cancelled"), h("p", { class: "muted" }, answer.policy),
    paid.length ? h("ul", {}, paid.map((p) => h("li", {}, `Compensation ${p}`))) : h("p", {}, "No one was booked: no compensation due."));
  await shifts();
}

async function heat() {
  const role = document.getElementById("heat-role").value;
  const startAt = new Date(Math.floor(Date.now() / 3600000) * 3600000);
  const end = new Date(startAt.getTime() + 24 * 3600000);
  const params = new URLSearchParams({ profession: role, start: startAt.toISOString(), end: end.toISOString() });
  for (const j of facility.jurisdictions) params.append("jurisdictions", j);
  const cells = (await api(`/v1/supply?${params}`)).cells;
  const hours = [...new Set(cells.map((c) => c.hour))].sort();
  const places = [...new Set(cells.map((c) => c.jurisdiction))].sort();
  const most = Math.max(1, ...cells.map((c) => c.clinicians));
  const count = new Map(cells.map((c) => [`${c.jurisdiction} ${c.hour}`, c.clinicians]));
  fill(document.getElementById("heat"),
    h("thead", {}, h("tr", {}, h("th", {}, "State"), hours.map((hr) => h("th", { scope: "col" }, when(hr, facility.zone, false).slice(0, 2))))),
    h("tbody", {}, places.map((p) => h("tr", {}, h("th", { scope: "row" }, p), hours.map((hr) => {
      const n = count.get(`${p} ${hr}`) || 0;
      return h("td", { style: `background: rgba(11,110,110,${(0.08 + 0.8 * n / most).toFixed(2)})`, title: `${n} available at ${when(hr, facility.zone)}` }, n);
    })))));
}

async function notifications() {
  const said = (await api("/v1/me/notifications")).notifications;
  fill(document.getElementById("notifications"), said.length ? said.slice(0, 15).map((n) =>
    h("li", {}, n.text, h("div", { class: "muted" }, when(n.at, facility ? facility.zone : "UTC")))) : h("li", { class: "muted" }, "Nothing yet."));
}

const refresh = debounce(async () => { if (facility) await shifts(); await notifications(); }, 300);

function onChange(change) {
  if (change.type === "BookingConfirmed") toast("A position was filled.");
  if (change.type === "OfferMade") document.getElementById("live-note").textContent = "offers going out…";
  refresh();
}

document.getElementById("shift-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const f = Object.fromEntries(new FormData(form).entries());
  let endDate = f.date;
  if (f.end <= f.start) endDate = new Date(Date.parse(`${f.date}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  const body = {
    profession: f.profession, positions: Number(f.positions), local_start: `${f.date}T${f.start}`, local_end: `${endDate}T${f.end}`,
    patient_jurisdictions: [...form.patient_jurisdictions.selectedOptions].map((o) => o.value),
    pay_cents_per_hour: Math.round(Number(f.pay) * 100), scope_of_work: f.scope_of_work,
    skills: f.skills ? f.skills.split(",").map((s) => s.trim()).filter(Boolean) : [],
  };
  const series = f.every_days && Number(f.occurrences) > 1;
  if (series) Object.assign(body, { every_days: Number(f.every_days), occurrences: Number(f.occurrences) });
  await attempt(document.getElementById("shift-error"), async () => {
    await api(`/v1/facilities/${facility.facility_id}/${series ? "shift-series" : "shifts"}`, { method: "POST", body });
    toast(series ? "Series posted." : "Shift posted.");
    await shifts();
  });
});

async function saveList(kind, input, errorId) {
  const ids = input.value.split(",").map((s) => s.trim()).filter(Boolean);
  await attempt(document.getElementById(errorId), async () => {
    facility = await api(`/v1/facilities/${facility.facility_id}/${kind}`, { method: "PUT", body: { clinician_ids: ids } });
    toast("Saved.");
  });
}
document.getElementById("dnr-form").addEventListener("submit", (e) => { e.preventDefault(); saveList("do-not-return", document.getElementById("dnr"), "dnr-error"); });
document.getElementById("fav-form").addEventListener("submit", (e) => { e.preventDefault(); saveList("favourites", document.getElementById("fav"), "fav-error"); });
document.getElementById("heat-role").addEventListener("change", heat);
document.getElementById("facility-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = Object.fromEntries(new FormData(event.target).entries());
  await attempt(document.getElementById("facility-error"), async () => {
    await api(`/v1/facilities/${encodeURIComponent(f.facility_id)}`, { method: "PUT", body: { facility_id: f.facility_id, name: f.name, zone: f.zone, jurisdictions: [f.jurisdiction] } });
    location.reload();
  });
});

start();
