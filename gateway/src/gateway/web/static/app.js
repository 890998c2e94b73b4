// Shared by every page: calling the API, building elements safely, times in a zone, live updates.

export const ROLES = {
  RN: "Registered nurse (RN)", LPN: "Licensed practical nurse (LPN)", NP: "Nurse practitioner (NP)",
  MD: "Physician (MD): psychiatry, radiology…", DO: "Physician (DO)", PSY: "Psychologist", LPC: "Counsellor (LPC)",
  LCSW: "Clinical social worker (LCSW)", PT: "Physical therapist", OT: "Occupational therapist",
  SLP: "Speech-language pathologist", SCRIBE: "Virtual scribe", VMA: "Virtual medical assistant",
};

export const ZONES = [
  "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage",
  "Pacific/Honolulu", "America/Puerto_Rico", "Europe/London", "Europe/Dublin", "Asia/Manila", "Asia/Kolkata", "Australia/Sydney",
];

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export function explain(data) {
  if (!data) return "something went wrong";
  const detail = data.detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return String(detail ?? "something went wrong");
}

export async function api(path, { method = "GET", body, signedIn = true } = {}) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && signedIn) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, "signed out");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, explain(data));
  return data;
}

// h("p", {class: "muted"}, "text", child): elements from data, never from HTML strings.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

// An instant (ISO text) as wall time in an IANA zone: "Tue, Mar 16, 10:00 GMT".
export function when(instant, zone, withDay = true) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone, timeZoneName: "short" };
  if (withDay) Object.assign(options, { weekday: "short", month: "short", day: "numeric" });
  return new Intl.DateTimeFormat("en-US", options).format(new Date(instant));
}

export function dayKey(instant, zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(instant));
}

export function money(cents) {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(Number(cents) / 100);
}

export function stateName(text) {
  return String(text || "").replace(/^(OFFER_STATE_|SHIFT_STATE_)/, "").toLowerCase();
}

export function toast(message) {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", { id: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(box._timer);
  box._timer = setTimeout(() => box.classList.remove("show"), 4000);
}

// Server-sent events: onChange({type, shift_id, offer_id}) for what concerns the signed-in person.
export function live(onChange) {
  const source = new EventSource("/v1/live");
  source.addEventListener("change", (event) => onChange(JSON.parse(event.data)));
  return source;
}

export function debounce(action, wait = 250) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => action(...args), wait); };
}

export async function signOut() {
  await api("/v1/sessions/current", { method: "DELETE", signedIn: false });
  location.assign("/login");
}

// Runs an action from a form: shows its error beside it instead of failing silently.
export async function attempt(errorBox, action) {
  errorBox.textContent = "";
  try {
    return await action();
  } catch (error) {
    errorBox.textContent = error.message;
    return undefined;
  }
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}
