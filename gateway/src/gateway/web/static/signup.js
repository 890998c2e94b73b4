import { api, attempt, formValues } from "/static/app.js";

const form = document.getElementById("signup");
form.addEventListener("change", () => {
  document.getElementById("org-field").hidden = form.kind.value !== "organizations";
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { kind, ...values } = formValues(form);
  if (kind !== "organizations") delete values.organization_name;
  await attempt(document.getElementById("error"), async () => {
    await api(`/v1/signup/${kind}`, { method: "POST", body: values, signedIn: false });
    await api("/v1/sessions", { method: "POST", body: { email: values.email, password: values.password }, signedIn: false });
    location.assign(kind === "organizations" ? "/facility" : "/clinician");
  });
});
