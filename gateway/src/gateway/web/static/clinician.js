import { ROLES, ZONES, api, attempt, dayKey, debounce, fill, h, live, money, signOut, stateName, toast, when } from "/static/app.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
let me, profile, weekOf = new Date();

function options(select, values, labels = {}) {
  fill(select, values.map((v) => h("option", { value: v }, labels[v] || v)));
}

async function start() {
  me = await api("/v1/me");
  fill(document.getElementById("who"), h("span", {}, me.name), h("button", { type: "button", onclick: signOut }, "Sign out"));
  options(document.getElementById("p-role"), Object.keys(ROLES), ROLES);
  options(document.getElementById("p-zone"), ZONES);
  const states = (await api("/v1/jurisdictions")).jurisdictions;
  options(document.getElementById("l-where"), states);
  options(document.getElementById("l-home"), states);
  try {
    profile = await api("/v1/me/profile");
  } catch (error) {
    if (error.status !== 404) throw error;
    profile = null;
    toast("Start with your profile: role, time zone and rate.");
  }
  showProfile();
  live(onChange);
  await Promise.all([offers(), week(), licences(), notifications(), icalLink()]);
}

function zone() { return profile ? profile.zone : Intl.DateTimeFormat().resolvedOptions().timeZone; }

function showProfile() {
  document.getElementById("avail-zone").textContent = `in my time (${zone()})`;
  document.getElementById("week-zone").textContent = `in ${zone()}`;
  if (!profile) return;
  const form = document.getElementById("profile-form");
  form.profession.value = profile.profession;
  form.zone.value = profile.zone;
  form.rate.value = (profile.rate_cents_per_hour / 100).toFixed(2);
  form.cap.value = profile.max_minutes_per_week ? profile.max_minutes_per_week / 60 : "";
  form.rest.value = profile.min_rest_minutes ? profile.min_rest_minutes / 60 : "";
  form.skills.value = profile.skills.join(", ");
  fill(document.getElementById("windows"), profile.availability.map(windowRow));
  document.getElementById("q-start").value = profile.quiet_hours_start;
  document.getElementById("q-end").value = profile.quiet_hours_end;
  document.getElementById("time-off").value = profile.time_off.join(", ");
}

function windowRow(w = { day: "mon", start: "09:00", end: "17:00" }) {
  const row = h("div", { class: "row window" },
    h("div", {}, h("label", {}, "Day", h("select", { name: "day" }, DAYS.map((d) => h("option", { value: d, selected: d === w.day }, d))))),
    h("div", {}, h("label", {}, "From", h("input", { name: "start", type: "time", value: w.start }))),
    h("div", {}, h("label", { title: "00:00 means midnight" }, "Until", h("input", { name: "end", type: "time", value: w.end }))),
    h("div", { style: "flex: 0 0 auto" }, h("button", { type: "button", class: "secondary", "aria-label": `Remove ${w.day} hours`, onclick: () => row.remove() }, "✕")));
  return row;
}

async function offers() {
  const list = (await api("/v1/me/offers")).offers;
  const open = list.filter((o) => stateName(o.state) === "open");
  document.getElementById("offers-note").textContent = open.length ? `${open.length} waiting` : "";
  fill(document.getElementById("offers"), list.length ? list.slice().reverse().slice(0, 20).map(offerCard) : h("p", { class: "muted" }, "No offers yet. They arrive here as facilities post shifts that fit your hours and licences."));
}

function offerCard(offer) {
  const shift = offer.shift || {};
  const state = stateName(offer.state);
  const facilityTime = shift.local_start ? `Facility time: ${shift.local_start.local.replace("T", " ")} – ${shift.local_end.local.slice(11)} (${shift.facility_zone})` : "";
  const error = h("p", { class: "error", role: "alert" });
  const answer = (verb) => attempt(error, async () => {
    const body = verb === "decline" ? { reason: "not for me" } : undefined;
    await api(`/v1/offers/${encodeURIComponent(offer.offer_id)}/${verb}`, { method: "POST", body });
    toast(verb === "accept" ? "Booked. It is in your week." : "Declined.");
    await Promise.all([offers(), week()]);
  });
  return h("article", { class: "offer", "data-offer-id": offer.offer_id, "data-state": state },
    h("h3", { title: facilityTime }, shift.start ? `${when(shift.start, zone())} – ${when(shift.end, zone(), false)}` : offer.shift_id),
    h("div", { class: "muted", "data-facility-time": "" }, facilityTime),
    h("div", {}, `${ROLES[shift.profession] || shift.profession || ""} · ${shift.facility_name || ""} · patients in ${(shift.patient_jurisdictions || []).join(", ") || "—"}`),
    shift.scope_of_work ? h("p", {}, shift.scope_of_work) : null,
    h("div", {}, h("strong", {}, `${money(offer.rate_cents_per_hour)}/h`), " · ", h("span", { class: `pill ${state}` }, state),
      state === "open" ? h("span", { class: "muted" }, ` · answer by ${when(offer.expires_at, zone(), false)}`) : null),
    state === "open" ? h("div", { class: "row", style: "margin-top:.5rem" },
      h("button", { type: "button", onclick: () => answer("accept") }, "Accept"),
      h("button", { type: "button", class: "secondary", onclick: () => answer("decline") }, "Decline")) : null,
    error);
}

async function week() {
  const entries = profile ? (await api(`/v1/me/schedule?zone=${encodeURIComponent(zone())}`)).entries : [];
  const first = weekOf;
  document.getElementById("week-of").value = dayKey(first, zone());
  const days = [...Array(7).keys()].map((i) => new Date(first.getTime() + i * 86400000));
  fill(document.getElementById("week"), days.map((day) => {
    const key = dayKey(day, zone());
    const todays = entries.filter((e) => dayKey(e.booking.interval.start, zone()) === key);
    return h("div", { class: "day", "data-day": key },
      h("h4", {}, new Intl.DateTimeFormat("en-US", { timeZone: zone(), weekday: "short", month: "short", day: "numeric" }).format(day)),
      todays.map((e) => h("div", { class: "booking", tabindex: 0, "data-shift-id": e.shift.shift_id,
        title: `Facility time: ${e.shift.local_start.local.replace("T", " ")} (${e.shift.local_start.zone})` },
        `${when(e.booking.interval.start, zone(), false)} – ${when(e.booking.interval.end, zone(), false)}`,
        h("div", { class: "muted" }, ROLES[e.shift.profession] || e.shift.profession))));
  }));
}

async function licences() {
  let record;
  try { record = await api("/v1/me/licensing"); } catch { record = { licences: [], authorities: [] }; }
  fill(document.getElementById("licences"), [...record.licences.map((l) => h("li", {},
    `${l.jurisdiction} ${l.profession} licence ${l.number}${l.multistate ? " (multistate)" : ""}, expires ${l.expires} · `,
    h("span", { class: "muted" }, l.verification.verification === "VERIFICATION_SELF_DECLARED" ? "waiting for verification" : "verified"))),
  ...record.authorities.map((a) => h("li", {}, `${a.kind.replace("AUTHORITY_KIND_", "")} ${a.compact} ${a.jurisdiction}, expires ${a.expires}`))]);
  if (record.residence) document.getElementById("l-home").value = record.residence;
  if (!profile) return;
  try {
    const today = await api("/v1/me/licensing/today");
    fill(document.getElementById("today"), today.sentences.map((s) => h("p", {}, s)));
  } catch (error) {
    fill(document.getElementById("today"), h("p", {}, error.message));
  }
}

async function notifications() {
  const said = (await api("/v1/me/notifications")).notifications;
  fill(document.getElementById("notifications"), said.length ? said.slice(0, 15).map((n) =>
    h("li", {}, n.text, h("div", { class: "muted" }, when(n.at, zone())))) : h("li", { class: "muted" }, "Nothing yet."));
}

async function icalLink() {
  if (!profile) return;
  document.getElementById("ical").href = (await api("/v1/me/calendar-link")).url;
}

const refresh = debounce(() => Promise.all([offers(), week(), notifications()]), 250);

function onChange(change) {
  if (change.type === "OfferMade") toast("A new offer arrived.");
  refresh();
}

document.getElementById("profile-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = Object.fromEntries(new FormData(event.target).entries());
  await attempt(document.getElementById("profile-error"), async () => {
    const saved = await api("/v1/me/profile", { method: "PUT", body: {
      profession: f.profession, zone: f.zone, rate_cents_per_hour: Math.round(Number(f.rate) * 100),
      max_minutes_per_week: Math.round(Number(f.cap || 0) * 60), min_rest_minutes: Math.round(Number(f.rest || 0) * 60),
      skills: f.skills ? f.skills.split(",").map((s) => s.trim()).filter(Boolean) : [],
      expected_version: profile ? profile.version : 0 } });
    profile = saved.profile;
    showProfile();
    toast("Profile saved.");
    await Promise.all([week(), licences(), icalLink()]);
  });
});

document.getElementById("add-window").addEventListener("click", () => document.getElementById("windows").append(windowRow()));

document.getElementById("avail-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("avail-error");
  if (!profile) { error.textContent = "Save your profile first."; return; }
  const windows = [...document.querySelectorAll("#windows .window")].map((row) => ({
    day: row.querySelector("[name=day]").value, start: row.querySelector("[name=start]").value, end: row.querySelector("[name=end]").value }));
  await attempt(error, async () => {
    let saved = await api("/v1/me/availability", { method: "PUT", body: {
      windows, quiet_hours_start: document.getElementById("q-start").value, quiet_hours_end: document.getElementById("q-end").value,
      expected_version: profile.version } });
    const dates = document.getElementById("time-off").value.split(",").map((s) => s.trim()).filter(Boolean);
    saved = await api("/v1/me/time-off", { method: "PUT", body: { dates, release_clashing_bookings: document.getElementById("release").checked,
      expected_version: saved.profile.version } });
    profile = saved.profile;
    toast(saved.released.length ? `Saved; ${saved.released.length} booking(s) released.` : "Hours saved.");
    await week();
  });
});

document.getElementById("licence-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const f = Object.fromEntries(new FormData(form).entries());
  await attempt(document.getElementById("licence-error"), async () => {
    await api("/v1/me/residence", { method: "PUT", body: { residence: f.residence } });
    await api("/v1/me/licences", { method: "POST", body: {
      licence_id: `lic-${f.jurisdiction}-${Date.now().toString(36)}`, jurisdiction: f.jurisdiction, number: f.number,
      profession: profile ? profile.profession : "RN", issued: f.issued, expires: f.expires, multistate: form.multistate.checked } });
    toast("Licence declared; it counts once verified.");
    form.reset();
    await licences();
  });
});

document.getElementById("why-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const shift = document.getElementById("why-shift").value.trim();
  const box = document.getElementById("why");
  try {
    const answer = await api(`/v1/me/shifts/${encodeURIComponent(shift)}/why-not`);
    fill(box, answer.fits ? h("p", {}, "You fit this shift; an offer may still come (two go out per open position).")
      : h("ul", {}, answer.reasons.map((r) => h("li", {}, r))));
  } catch (error) {
    fill(box, h("p", { class: "error" }, error.message));
  }
});
const moveWeek = (days) => { weekOf = new Date(weekOf.getTime() + days * 86400000); week(); };
document.getElementById("week-back").addEventListener("click", () => moveWeek(-7));
document.getElementById("week-next").addEventListener("click", () => moveWeek(7));
document.getElementById("week-of").addEventListener("change", (event) => {
  if (event.target.value) { weekOf = new Date(`${event.target.value}T12:00:00Z`); week(); }
});

start();
