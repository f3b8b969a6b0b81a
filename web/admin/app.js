// The admin page: drives /admin/api. Values from the server are only ever set as text
// (textContent, attributes), never parsed as HTML. No inline style: the page's policy
// forbids it; state is shown with classes and the hidden attribute.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { admin: null, tab: "tenants", organizations: [], servers: [],
                tenants: { page: 1, perPage: 25, total: 0 }, tenant: null, organization: null, adminUser: null,
                audit: { next: null }, stats: null };

// ---------- Talking to the API ----------

class APIError extends Error {
  constructor(status, error) {
    super(error.message || "The request failed.");
    this.status = status;
    this.code = error.code;
    this.hint = error.hint;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/admin/api" + path, init);
  } catch {
    throw new APIError(0, { message: "The server could not be reached. Check your connection and try again." });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && state.admin && path !== "/session") {
      showSignedOut("Your session has ended. Please sign in again.");
    }
    throw new APIError(response.status, (data && data.error) || { message: response.statusText });
  }
  return data;
}

const query = (params) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== "" && value !== null && value !== undefined) search.set(key, value);
  const text = search.toString();
  return text ? "?" + text : "";
};

// ---------- Showing things ----------

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") element.textContent = value;
    else if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A message for people: the API's hint only when it is advice, not an API call or a command. */
function explain(error) {
  const hint = error.hint && !/(GET|POST|PUT|PATCH|DELETE) \/|`pgperm|\bpgperm [a-z]/.test(error.hint) ? " " + error.hint : "";
  return error.message + (error.message.endsWith(".") ? "" : ".") + hint;
}

let noticeTimer = null;
function notify(kind, text) {
  const notice = $("notice");
  notice.className = "notice " + kind;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  $("notice-text").textContent = (kind === "error" ? "Error: " : "") + text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (kind === "success") noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
}
const clearNotice = () => { $("notice").hidden = true; };

/** Runs an action behind a button: the button shows it is busy, failures become a message. */
async function run(button, action) {
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
  try {
    return await action();
  } catch (error) {
    if (error instanceof APIError) notify("error", explain(error));
    else { notify("error", "Something went wrong in the page."); console.error(error); }
  } finally {
    if (button) { button.disabled = false; button.removeAttribute("aria-busy"); }
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
function localDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return el("time", { datetime: iso, title: date.toString(), text: dateFormat.format(date) });
}
function bytes(count) {
  if (count === null || count === undefined) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = count, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return (unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)) + " " + units[unit];
}
const number = (value) => value === null || value === undefined ? "—" : new Intl.NumberFormat().format(value);
const milliseconds = (value) => value < 10 ? value.toFixed(2) + " ms" : value < 100 ? value.toFixed(1) + " ms" : Math.round(value) + " ms";
const statusLabels = { active: "Active", inactive: "Inactive", provisioning: "Provisioning", failed: "Failed" };
const badge = (status, label) => el("span", { class: "badge " + status, text: label || statusLabels[status] || status });

function fields(list, entries) {
  list.replaceChildren();
  for (const [label, value] of entries) {
    list.append(el("dt", { text: label }), el("dd", {}, value === null || value === undefined || value === "" ? "—" : value));
  }
}

function copyButton(text, label) {
  return el("button", { type: "button", class: "link", "aria-label": label, text: "Copy",
    onclick: async () => {
      try { await navigator.clipboard.writeText(text); notify("success", label.replace(/^Copy /, "") + " copied to the clipboard."); }
      catch { notify("error", "The browser did not allow copying; select the text and copy it yourself."); }
    } });
}

function emptyRow(body, columns, text) {
  body.replaceChildren(el("tr", {}, el("td", { colspan: columns, class: "empty", text })));
}

// ---------- The dialog: confirmations and small forms ----------

/**
 * Opens the dialog with `content` (nodes; inputs with a name are read into the result) and
 * resolves with the values when confirmed, null when cancelled. `submit(values)` may throw an
 * APIError: its message is shown in the dialog, which stays open.
 */
function dialog({ title, content = [], confirm = "OK", danger = false, cancel = "Cancel", submit }) {
  const box = $("dialog");
  $("dialog-title").textContent = title;
  $("dialog-body").replaceChildren(...content);
  $("dialog-error").hidden = true;
  const confirmButton = $("dialog-confirm");
  confirmButton.textContent = confirm;
  confirmButton.className = danger ? "danger" : "";
  $("dialog-cancel").textContent = cancel;
  $("dialog-cancel").hidden = cancel === null;
  return new Promise((resolve) => {
    const form = $("dialog-form");
    const finish = (value) => {
      form.removeEventListener("submit", onSubmit);
      $("dialog-cancel").removeEventListener("click", onCancel);
      box.removeEventListener("cancel", onCancel);
      if (box.open) box.close();
      resolve(value);
    };
    const onCancel = (event) => { event.preventDefault(); finish(null); };
    const onSubmit = async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const values = {};
      for (const input of $("dialog-body").querySelectorAll("[name]")) {
        values[input.name] = input.type === "checkbox" ? input.checked : input.value;
      }
      if (!submit) return finish(values);
      confirmButton.disabled = true;
      confirmButton.setAttribute("aria-busy", "true");
      try {
        finish((await submit(values)) ?? values);
      } catch (error) {
        $("dialog-error").textContent = error instanceof APIError ? explain(error) : "Something went wrong in the page.";
        $("dialog-error").hidden = false;
      } finally {
        confirmButton.disabled = false;
        confirmButton.removeAttribute("aria-busy");
      }
    };
    form.addEventListener("submit", onSubmit);
    $("dialog-cancel").addEventListener("click", onCancel);
    box.addEventListener("cancel", onCancel);
    box.showModal();
    const first = $("dialog-body").querySelector("input, select");
    (first || confirmButton).focus();
  });
}

const field = (label, attributes) => el("label", {}, label, el("input", attributes));
const choice = (label, name, options, selected) =>
  el("label", {}, label, el("select", { name }, options.map(([value, text]) => el("option", { value, selected: value === selected, text }))));

/** Shows a secret once, with a copy button. */
async function showSecret(title, explanation, secret) {
  await dialog({ title, confirm: "Done", cancel: null, content: [
    el("p", { text: explanation }),
    el("div", { class: "secret", id: "secret-value", text: secret }),
    copyButton(secret, "Copy the password"),
  ] });
}

// ---------- Sign-in and tabs ----------

function showSignedIn(admin) {
  state.admin = admin;
  const superadmin = admin.role === "superadmin";
  $("who").textContent = admin.email + (superadmin ? " · superadmin" : " · admin");
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  $("app").hidden = false;
  $("tab-admins").hidden = !superadmin;
  $("new-tenant").hidden = !superadmin;
  $("new-organization").hidden = !superadmin;
  $("tenant-delete").hidden = !superadmin;
  const wanted = location.hash.slice(1);
  selectTab(tabNames().includes(wanted) ? wanted : "tenants");
}

function showSignedOut(message) {
  state.admin = null;
  $("who").textContent = "";
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("app").hidden = true;
  if (message) notify("error", message);
  $("sign-in").querySelector("input").focus();
}

const tabNames = () => [...document.querySelectorAll("[role=tab]")].filter((tab) => !tab.hidden).map((tab) => tab.dataset.tab);

function selectTab(name) {
  state.tab = name;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", selected ? "true" : "false");
    tab.tabIndex = selected ? 0 : -1;
    $("panel-" + tab.dataset.tab).hidden = !selected;
  }
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  const loaders = { tenants: loadTenantsTab, organizations: loadOrganizations, admins: loadAdmins, stats: loadStats, audit: () => loadAudit(null) };
  run(null, loaders[name]);
}

// ---------- Tenants ----------

async function loadReferenceLists() {
  const [organizations, servers] = await Promise.all([api("GET", "/organizations"), api("GET", "/servers")]);
  state.organizations = organizations;
  state.servers = servers;
  const organizationFilter = $("filter-organization");
  const chosenOrganization = organizationFilter.value;
  organizationFilter.replaceChildren(el("option", { value: "", text: "Any" }), el("option", { value: "none", text: "None" }),
    ...organizations.map((organization) => el("option", { value: organization.id, text: organization.name })));
  organizationFilter.value = chosenOrganization;
  const serverFilter = $("filter-server");
  const chosenServer = serverFilter.value;
  serverFilter.replaceChildren(el("option", { value: "", text: "Any" }),
    ...servers.map((server) => el("option", { value: server.name, text: server.name })));
  serverFilter.value = chosenServer;
}

async function loadTenantsTab() {
  await loadReferenceLists();
  await loadTenants();
}

const organizationName = (id) => (state.organizations.find((organization) => organization.id === id) || {}).name;

async function loadTenants() {
  const filters = Object.fromEntries(new FormData($("tenant-filters")));
  const body = $("tenant-rows");
  body.setAttribute("aria-busy", "true");
  try {
    const list = await api("GET", "/tenants" + query({ ...filters, page: state.tenants.page, per_page: state.tenants.perPage }));
    state.tenants.total = list.total;
    const pages = Math.max(1, Math.ceil(list.total / list.per_page));
    if (state.tenants.page > pages) { state.tenants.page = pages; return loadTenants(); }
    body.replaceChildren(...list.tenants.map((tenant) => el("tr", { "data-slug": tenant.slug },
      el("td", { text: tenant.name }),
      el("td", {}, el("code", { text: tenant.slug })),
      el("td", {}, badge(tenant.status)),
      el("td", { text: tenant.server }),
      el("td", { text: organizationName(tenant.organization_id) || "—" }),
      el("td", {}, localDate(tenant.created_at)),
      el("td", {}, el("button", { type: "button", class: "secondary", text: "Details", "aria-label": "Details of " + tenant.name,
        onclick: (event) => run(event.currentTarget, () => openTenant(tenant.slug)) })))));
    if (list.tenants.length === 0) emptyRow(body, 7, list.total === 0 && !Object.values(filters).some(Boolean) ? "No tenants yet." : "No tenant matches these filters.");
    $("tenants-page").textContent = list.total === 0 ? "" :
      `Page ${state.tenants.page} of ${pages} · ${number(list.total)} tenant${list.total === 1 ? "" : "s"}`;
    $("tenants-previous").disabled = state.tenants.page <= 1;
    $("tenants-next").disabled = state.tenants.page >= pages;
  } finally {
    body.removeAttribute("aria-busy");
  }
}

async function openTenant(slug) {
  const tenant = await api("GET", "/tenants/" + encodeURIComponent(slug));
  state.tenant = tenant;
  $("tenant-details").hidden = false;
  $("tenant-details-title").textContent = tenant.name;
  $("tenant-credentials-box").hidden = true;
  fields($("tenant-fields"), [
    ["Name", tenant.name],
    ["Slug", el("code", { text: tenant.slug })],
    ["Status", badge(tenant.status)],
    ["Server", tenant.server],
    ["Database", el("code", { text: tenant.database_name })],
    ["Database role", el("code", { text: tenant.role_name })],
    ["Initial admin", tenant.admin_email],
    ["Organization", organizationName(tenant.organization_id) || "None"],
    ["Schema version", tenant.schema_version],
    ["Created", localDate(tenant.created_at)],
    ["Updated", localDate(tenant.updated_at)],
    ...(tenant.last_error ? [["Last error", tenant.last_error]] : []),
  ]);
  fields($("tenant-connection"), [["Status", tenant.status === "active" ? "Not tested yet" : "Not tested: the tenant is " + tenant.status]]);
  $("tenant-details").scrollIntoView({ block: "nearest" });
  if (tenant.status === "active") await testTenant($("tenant-test"));
}

async function testTenant(button) {
  const tenant = state.tenant;
  fields($("tenant-connection"), [["Status", "Testing…"]]);
  await run(button, async () => {
    try {
      const result = await api("POST", "/tenants/" + encodeURIComponent(tenant.slug) + "/test");
      fields($("tenant-connection"), result.ok ? [
        ["Status", badge("active", "Connected")],
        ["Latency", milliseconds(result.latency_ms)],
        ["Schema version", result.schema_version],
        ["PostgreSQL", result.server_version ? Math.floor(result.server_version / 10000) + "." + (result.server_version % 10000) : null],
        ["Database size", bytes(result.database_size_bytes)],
      ] : [["Status", badge("unreachable", "Cannot connect")], ["Reason", result.error]]);
    } catch (error) {
      fields($("tenant-connection"), [["Status", badge("unreachable", "Not tested")], ["Reason", error.message]]);
      throw error;
    }
  });
}

async function showCredentials(button) {
  const tenant = state.tenant;
  await run(button, async () => {
    const credentials = await api("GET", "/tenants/" + encodeURIComponent(tenant.slug) + "/credentials");
    const withCopy = (text, label) => el("span", {}, el("code", { text }), " ", copyButton(text, "Copy the " + label));
    fields($("credential-fields"), [
      ["Admin email", withCopy(credentials.admin_email, "admin email")],
      ["Admin password", withCopy(credentials.admin_password, "admin password")],
      ["Database", el("code", { text: credentials.database_name })],
      ["Database role", el("code", { text: credentials.role_name })],
      ["Connection string", withCopy(credentials.conninfo, "connection string")],
    ]);
    $("tenant-credentials-box").hidden = false;
  });
}

async function createTenant() {
  const servers = state.servers.filter((server) => server.status === "active");
  const created = await dialog({
    title: "New tenant", confirm: "Create tenant",
    content: [
      el("p", { class: "hint", text: "Creates the tenant's database, its role and its initial admin. This takes a few seconds." }),
      field("Name", { name: "name", required: true, maxlength: 200, autocomplete: "off" }),
      field("Slug", { name: "slug", required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,38}[a-z0-9]", autocomplete: "off",
                      title: "2 to 40 lower-case letters, digits and hyphens; not starting or ending with a hyphen" }),
      choice("Database server", "server", [["", "Automatic (most room)"], ...servers.map((server) =>
        [server.name, `${server.name} (${server.tenant_count} of ${server.capacity} tenants)`])], ""),
    ],
    submit: (values) => api("POST", "/tenants", { name: values.name, slug: values.slug, server: values.server || undefined }),
  });
  if (!created) return;
  notify("success", `Tenant “${created.tenant.name}” created in ${created.seconds.toFixed(1)} s.`);
  await loadTenants();
  await openTenant(created.tenant.slug);
}

async function editTenant() {
  const tenant = state.tenant;
  const updated = await dialog({
    title: "Edit " + tenant.name, confirm: "Save",
    content: [
      field("Name", { name: "name", required: true, value: tenant.name, maxlength: 200 }),
      field("Slug", { name: "slug", required: true, value: tenant.slug, pattern: "[a-z0-9][a-z0-9\\-]{0,38}[a-z0-9]" }),
      choice("Status", "status", [["active", "Active"], ["inactive", "Inactive (suspended: users cannot sign in)"]],
             tenant.status === "inactive" ? "inactive" : "active"),
    ],
    submit: (values) => {
      const change = {};
      if (values.name !== tenant.name) change.name = values.name;
      if (values.slug !== tenant.slug) change.slug = values.slug;
      if (values.status !== tenant.status && (tenant.status === "active" || tenant.status === "inactive")) change.status = values.status;
      return api("PATCH", "/tenants/" + encodeURIComponent(tenant.slug), change);
    },
  });
  if (!updated) return;
  notify("success", `Tenant “${updated.name}” saved.`);
  await loadTenants();
  await openTenant(updated.slug);
}

async function deleteTenant() {
  const tenant = state.tenant;
  const deleted = await dialog({
    title: "Delete " + tenant.name + "?", confirm: "Delete tenant", danger: true,
    content: [
      el("p", { text: `This drops the database ${tenant.database_name} and everything in it. It cannot be undone.` }),
      field(`Type the slug “${tenant.slug}” to confirm`, { name: "confirm", required: true, autocomplete: "off", pattern: escapePattern(tenant.slug) }),
    ],
    submit: (values) => api("DELETE", "/tenants/" + encodeURIComponent(tenant.slug) + query({ confirm: values.confirm })),
  });
  if (!deleted) return;
  notify("success", `Tenant “${tenant.name}” deleted.`);
  $("tenant-details").hidden = true;
  state.tenant = null;
  await loadTenants();
}

const escapePattern = (text) => text.replace(/[-\\^$*+?.()|[\]{}]/g, "\\$&");

/** Tenant slugs for the assign and grant fields, as the user types. */
async function suggestTenants(text) {
  const list = await api("GET", "/tenants" + query({ q: text, per_page: 20 }));
  $("tenant-slugs").replaceChildren(...list.tenants.map((tenant) => el("option", { value: tenant.slug, text: tenant.name })));
}

// ---------- Organizations ----------

async function loadOrganizations() {
  const organizations = await api("GET", "/organizations");
  state.organizations = organizations;
  const superadmin = state.admin.role === "superadmin";
  const body = $("organization-rows");
  body.replaceChildren(...organizations.map((organization) => el("tr", { "data-name": organization.name },
    el("td", { text: organization.name }),
    el("td", { text: organization.admin_email || "—" }),
    el("td", { text: organization.tenant_slugs.length ? organization.tenant_slugs.join(", ") : "—" }),
    el("td", {}, organization.has_sso ? badge("active", "Configured") : "—"),
    el("td", {}, localDate(organization.created_at)),
    el("td", {}, superadmin ? el("button", { type: "button", class: "secondary", text: "Manage", "aria-label": "Manage " + organization.name,
      onclick: (event) => run(event.currentTarget, () => openOrganization(organization.id)) }) : null))));
  if (organizations.length === 0) emptyRow(body, 6, "No organizations yet.");
  if (state.organization && !organizations.some((organization) => organization.id === state.organization.id)) {
    $("organization-details").hidden = true;
  }
}

async function openOrganization(id) {
  const organization = await api("GET", "/organizations/" + encodeURIComponent(id));
  state.organization = organization;
  $("organization-details").hidden = false;
  $("organization-details-title").textContent = organization.name;
  fields($("organization-fields"), [["Name", organization.name], ["Admin email", organization.admin_email],
                                    ["Created", localDate(organization.created_at)]]);
  const tenants = $("organization-tenants");
  tenants.replaceChildren(...organization.tenant_slugs.map((slug) => el("li", {}, el("code", { text: slug }),
    el("button", { type: "button", class: "link", text: "Unassign", "aria-label": "Unassign " + slug,
      onclick: (event) => run(event.currentTarget, async () => {
        await api("DELETE", `/organizations/${encodeURIComponent(organization.id)}/tenants/${encodeURIComponent(slug)}`);
        notify("success", `Tenant ${slug} unassigned from ${organization.name}.`);
        await loadOrganizations();
        await openOrganization(organization.id);
      }) }))));
  if (organization.tenant_slugs.length === 0) tenants.append(el("li", { class: "none", text: "No tenants yet." }));
  const form = $("sso-form");
  form.reset();
  $("sso-remove").hidden = !organization.has_sso;
  form.elements.client_secret.required = !organization.has_sso;
  if (organization.has_sso) {
    const sso = await api("GET", `/organizations/${encodeURIComponent(organization.id)}/sso`);
    form.elements.entra_tenant_id.value = sso.entra_tenant_id;
    form.elements.client_id.value = sso.client_id;
    form.elements.allowed_domains.value = sso.allowed_domains.join(", ");
    form.elements.client_secret.placeholder = "Stored; leave blank to keep it";
    $("sso-state").textContent = "Configured, last changed " + dateFormat.format(new Date(sso.updated_at)) + ". The client secret is never shown.";
  } else {
    form.elements.client_secret.placeholder = "The secret's value";
    $("sso-state").textContent = "Not configured.";
  }
}

async function createOrganization() {
  const created = await dialog({
    title: "New organization", confirm: "Create organization",
    content: [field("Name", { name: "name", required: true, maxlength: 200, autocomplete: "off" }),
              field("Admin email", { name: "admin_email", type: "email", required: true, autocomplete: "off" })],
    submit: (values) => api("POST", "/organizations", values),
  });
  if (!created) return;
  notify("success", `Organization “${created.name}” created.`);
  await loadOrganizations();
  await openOrganization(created.id);
}

async function deleteOrganization() {
  const organization = state.organization;
  const tenants = organization.tenant_slugs.length;
  const deleted = await dialog({
    title: "Delete " + organization.name + "?", confirm: "Delete organization", danger: true,
    content: [el("p", { text: tenants
      ? `Its ${tenants} tenant${tenants === 1 ? "" : "s"} stay${tenants === 1 ? "s" : ""}, unlinked from any organization; their databases are not touched. Its SSO settings are removed.`
      : "It has no tenants. Its SSO settings are removed." })],
    submit: () => api("DELETE", "/organizations/" + encodeURIComponent(organization.id)),
  });
  if (!deleted) return;
  notify("success", `Organization “${organization.name}” deleted.`);
  $("organization-details").hidden = true;
  state.organization = null;
  await loadOrganizations();
}

// ---------- Admin users ----------

async function loadAdmins() {
  const admins = await api("GET", "/admin-users");
  const body = $("admin-rows");
  body.replaceChildren(...admins.map((admin) => el("tr", { "data-email": admin.email },
    el("td", { text: admin.email }),
    el("td", { text: admin.role === "superadmin" ? "Superadmin" : "Regular admin" }),
    el("td", {}, badge(admin.is_active ? "active" : "inactive")),
    el("td", { text: admin.role === "superadmin" ? "All" : admin.tenant_slugs.join(", ") || "None" }),
    el("td", {}, localDate(admin.created_at)),
    el("td", {}, el("button", { type: "button", class: "secondary", text: "Manage", "aria-label": "Manage " + admin.email,
      onclick: (event) => run(event.currentTarget, () => openAdmin(admin.id)) })))));
}

async function openAdmin(id) {
  const admin = await api("GET", "/admin-users/" + encodeURIComponent(id));
  state.adminUser = admin;
  const me = admin.id === state.admin.id;
  $("admin-details").hidden = false;
  $("admin-details-title").textContent = admin.email + (me ? " (you)" : "");
  fields($("admin-fields"), [["Email", admin.email], ["Role", admin.role === "superadmin" ? "Superadmin" : "Regular admin"],
                             ["State", badge(admin.is_active ? "active" : "inactive")], ["Created", localDate(admin.created_at)]]);
  $("admin-role").value = admin.role;
  $("admin-active").textContent = admin.is_active ? "Deactivate" : "Activate";
  $("admin-active").hidden = me;
  $("admin-delete").hidden = me;
  $("admin-grants").hidden = admin.role === "superadmin";
  const tenants = $("admin-tenants");
  tenants.replaceChildren(...admin.tenant_slugs.map((slug) => el("li", {}, el("code", { text: slug }),
    el("button", { type: "button", class: "link", text: "Revoke", "aria-label": "Revoke " + slug,
      onclick: (event) => run(event.currentTarget, async () => {
        await api("DELETE", `/admin-users/${encodeURIComponent(admin.id)}/tenants/${encodeURIComponent(slug)}`);
        notify("success", `${admin.email} no longer manages ${slug}.`);
        await loadAdmins();
        await openAdmin(admin.id);
      }) }))));
  if (admin.tenant_slugs.length === 0) tenants.append(el("li", { class: "none", text: "No tenants yet." }));
}

async function createAdmin() {
  const created = await dialog({
    title: "New admin user", confirm: "Create admin user",
    content: [
      field("Email", { name: "email", type: "email", required: true, autocomplete: "off" }),
      choice("Role", "role", [["admin", "Regular admin (manages the tenants granted to it)"], ["superadmin", "Superadmin (everything)"]], "admin"),
      field("Password (leave blank to generate one)", { name: "password", type: "password", minlength: 8, autocomplete: "new-password" }),
    ],
    submit: (values) => api("POST", "/admin-users", { email: values.email, role: values.role, password: values.password || undefined }),
  });
  if (!created) return;
  await loadAdmins();
  if (created.generated_password) {
    await showSecret("Password for " + created.admin_user.email,
      "Give this password to the new admin. It is shown only now and never stored in readable form.", created.generated_password);
  }
  notify("success", `Admin user ${created.admin_user.email} created.`);
  await openAdmin(created.admin_user.id);
}

async function changeAdmin(change, message) {
  const admin = state.adminUser;
  const updated = await api("PATCH", "/admin-users/" + encodeURIComponent(admin.id), change);
  notify("success", message(updated));
  if (updated.id === state.admin.id && updated.role !== "superadmin") {
    return showSignedIn(await api("GET", "/session"));
  }
  await loadAdmins();
  await openAdmin(updated.id);
}

async function resetPassword() {
  const admin = state.adminUser;
  const result = await dialog({
    title: "Reset the password of " + admin.email + "?", confirm: "Reset password",
    content: [el("p", { text: "Their sessions end at once. Leave the field blank to generate a password." }),
              field("New password", { name: "password", type: "password", minlength: 8, autocomplete: "new-password" })],
    submit: (values) => api("POST", `/admin-users/${encodeURIComponent(admin.id)}/password`, { password: values.password || undefined }),
  });
  if (!result) return;
  if (admin.id === state.admin.id) return showSignedOut("Your password was changed: sign in with the new one.");
  if (result.generated_password) await showSecret("New password for " + admin.email, "It is shown only now.", result.generated_password);
  notify("success", `The password of ${admin.email} was reset.`);
}

async function deleteAdmin() {
  const admin = state.adminUser;
  const deleted = await dialog({
    title: "Delete " + admin.email + "?", confirm: "Delete admin user", danger: true,
    content: [el("p", { text: "They are signed out at once and can no longer sign in. The audit log keeps their actions." })],
    submit: () => api("DELETE", "/admin-users/" + encodeURIComponent(admin.id)),
  });
  if (!deleted) return;
  notify("success", `Admin user ${admin.email} deleted.`);
  $("admin-details").hidden = true;
  await loadAdmins();
}

// ---------- Statistics ----------

// The counts come from every tenant database, read a while ago (the server keeps them for a
// minute); Refresh reads them again and waits.
async function loadStats(refresh = false) {
  $("stats-state").textContent = refresh ? "Reading every tenant database again…" : "Loading statistics…";
  $("stats-refresh").disabled = true;
  try {
    const stats = await api("GET", refresh ? "/stats?refresh=true" : "/stats");
    state.stats = stats;
    const card = (label, value, note) => el("div", { class: "card", "data-figure": label },
      el("div", { class: "figure", text: value }), el("div", { class: "label", text: label }), note ? el("div", { class: "hint", text: note }) : null);
    const byStatus = stats.tenants_by_status;
    const unreachable = stats.totals.unreachable_tenants;
    $("stats-cards").replaceChildren(
      card("Tenants", number(stats.totals.tenants),
           `${number(byStatus.active)} active · ${number(byStatus.inactive)} inactive` +
           (byStatus.provisioning || byStatus.failed ? ` · ${number(byStatus.provisioning)} provisioning · ${number(byStatus.failed)} failed` : "")),
      card("Tenant users", number(stats.totals.users), unreachable ? `${unreachable} tenant${unreachable === 1 ? "" : "s"} unreachable` : null),
      card("Groups", number(stats.totals.groups)),
      card("Permission sets", number(stats.totals.permission_sets)),
      card("Tenant storage", bytes(stats.totals.size_bytes)),
      ...(stats.sessions ? [card("Active sessions", number(stats.sessions.admin + stats.sessions.tenant_user),
                                 `${number(stats.sessions.admin)} admin · ${number(stats.sessions.tenant_user)} tenant users`)] : []));

    $("stats-servers").hidden = !stats.servers;
    if (stats.servers) {
      $("server-rows").replaceChildren(...stats.servers.map((server) => el("tr", {},
        el("td", { text: server.name }),
        el("td", {}, server.unreachable ? badge("unreachable", "Unreachable") : badge(server.status === "active" ? "active" : "inactive", server.status)),
        el("td", { class: "number", text: number(server.tenant_count) }),
        el("td", { class: "number", text: bytes(server.size_bytes) }),
        el("td", { class: "number", text: number(server.connections) }))));
    }
    const storage = $("storage-rows");
    storage.replaceChildren(...stats.tenants.map((tenant) => el("tr", { "data-slug": tenant.slug },
      el("td", { text: tenant.name + " (" + tenant.slug + ")" }),
      el("td", {}, tenant.unreachable ? badge("unreachable", "Unreachable") : badge(tenant.status),
         tenant.unreachable ? el("div", { class: "hint", text: tenant.unreachable }) : null),
      el("td", { text: tenant.server }),
      el("td", { class: "number", text: bytes(tenant.size_bytes) }),
      el("td", { class: "number", text: number(tenant.users) }),
      el("td", { class: "number", text: number(tenant.groups) }),
      el("td", { class: "number", text: number(tenant.permission_sets) }))));
    if (stats.tenants.length === 0) emptyRow(storage, 7, "No tenants yet.");

    $("stats-requests").hidden = !stats.requests;
    if (stats.requests) { drawChart(stats.requests.per_minute); showRoutes(); }
    $("stats-state").textContent =
      `Counts read at ${timeFormat.format(new Date(stats.gathered_at))} in ${milliseconds(stats.gathered_in_ms)}.` +
      (stats.refreshing ? " Newer ones are being read: Refresh in a moment to see them." : "") +
      (stats.requests ? " Request figures are this server process's own." : "");
  } catch (error) {
    $("stats-state").textContent = "";
    throw error;
  } finally {
    $("stats-refresh").disabled = false;
  }
}

function showRoutes() {
  const routes = state.stats.requests[$("requests-period").value];
  const body = $("route-rows");
  body.replaceChildren(...routes.map((route) => el("tr", {},
    el("td", {}, el("code", { text: route.method + " " + route.route })),
    el("td", { class: "number", text: number(route.requests) }),
    el("td", { class: "number", text: number(route.client_errors) }),
    el("td", { class: "number", text: number(route.server_errors) }),
    el("td", { class: "number", text: milliseconds(route.p50_ms) }),
    el("td", { class: "number", text: milliseconds(route.p95_ms) }),
    el("td", { class: "number", text: milliseconds(route.p99_ms) }))));
  if (routes.length === 0) emptyRow(body, 7, "No requests in this period.");
}

/** Bars of requests per minute (errors in red on top), drawn as SVG elements: no script from elsewhere. */
function drawChart(minutes) {
  const svg = $("requests-chart");
  const ns = "http://www.w3.org/2000/svg";
  const shape = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const width = 600, height = 180, left = 36, bottom = 20, top = 8;
  const peak = Math.max(1, ...minutes.map((minute) => minute.requests));
  const scale = (height - bottom - top) / peak;
  const slot = (width - left) / minutes.length;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const title = svg.querySelector("title");
  svg.replaceChildren(title);
  svg.append(shape("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
             shape("text", { x: 2, y: top + 10 }, number(peak)), shape("text", { x: 2, y: height - bottom }, "0"));
  minutes.forEach((minute, index) => {
    const x = left + index * slot + 1;
    const ok = (minute.requests - minute.errors) * scale, bad = minute.errors * scale;
    const label = `${timeFormat.format(new Date(minute.minute))}: ${minute.requests} requests, ${minute.errors} errors`;
    const group = shape("g", {});
    group.append(shape("title", {}, label));
    if (ok > 0) group.append(shape("rect", { class: "bar-ok", x, y: height - bottom - ok, width: Math.max(1, slot - 2), height: ok }));
    if (bad > 0) group.append(shape("rect", { class: "bar-error", x, y: height - bottom - ok - bad, width: Math.max(1, slot - 2), height: bad }));
    svg.append(group);
    if (index % 15 === 0) svg.append(shape("text", { x, y: height - 5 }, timeFormat.format(new Date(minute.minute))));
  });
  const total = minutes.reduce((sum, minute) => sum + minute.requests, 0);
  const errors = minutes.reduce((sum, minute) => sum + minute.errors, 0);
  $("requests-chart-caption").textContent = `${number(total)} requests in the last hour, ${number(errors)} of them errors (4xx or 5xx, in red); busiest minute ${number(peak)}.`;
  title.textContent = $("requests-chart-caption").textContent;
}

// ---------- Audit ----------

const actionLabels = {
  "tenant.create": "Tenant created", "tenant.update": "Tenant changed", "tenant.rename": "Tenant renamed",
  "tenant.suspend": "Tenant suspended", "tenant.resume": "Tenant resumed", "tenant.delete": "Tenant deleted",
  "tenant.credentials_shown": "Credentials shown", "organization.create": "Organization created",
  "organization.delete": "Organization deleted", "organization.assign_tenant": "Tenant assigned to organization",
  "organization.unassign_tenant": "Tenant unassigned from organization", "organization.sso_set": "SSO configured",
  "organization.sso_remove": "SSO removed", "admin_user.create": "Admin user created", "admin_user.delete": "Admin user deleted",
  "admin_user.grant": "Tenant granted", "admin_user.revoke": "Tenant revoked", "admin_user.activate": "Admin user activated",
  "admin_user.deactivate": "Admin user deactivated", "admin_user.password": "Password reset", "admin_user.role": "Role changed",
};

/** `after`: the cursor of the page to show (null: the newest). */
async function loadAudit(after) {
  const filters = Object.fromEntries(new FormData($("audit-filters")));
  const body = $("audit-rows");
  body.setAttribute("aria-busy", "true");
  try {
    const page = await api("GET", "/audit" + query({ ...filters, after, limit: 50 }));
    state.audit.next = page.next;
    body.replaceChildren(...page.items.map((entry) => el("tr", {},
      el("td", {}, localDate(entry.occurred_at)),
      el("td", { text: entry.actor }),
      el("td", { title: entry.action, text: actionLabels[entry.action] || entry.action }),
      el("td", { text: entry.tenant_slug || "—" }),
      el("td", { class: "hint", text: Object.entries(entry.details).filter(([key]) => !key.endsWith("_id"))
        .map(([key, value]) => key.replaceAll("_", " ") + ": " + value).join(" · ") }))));
    if (page.items.length === 0) emptyRow(body, 5, after ? "No older entries." : "No audit entries match.");
    $("audit-older").disabled = page.next === null;
  } finally {
    body.removeAttribute("aria-busy");
  }
}

// ---------- Wiring ----------

function debounce(action, wait) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => action(...args), wait); };
}

document.addEventListener("DOMContentLoaded", () => {
  $("notice-close").addEventListener("click", clearNotice);
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    run(event.submitter, async () => {
      const admin = await api("POST", "/session", { email: form.get("email"), password: form.get("password") });
      event.target.reset();
      clearNotice();
      showSignedIn(admin);
    });
  });
  $("sign-out").addEventListener("click", (event) => run(event.currentTarget, async () => {
    try { await api("DELETE", "/session"); } finally { showSignedOut(); notify("success", "You are signed out."); }
  }));

  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
    tab.addEventListener("keydown", (event) => {
      const visible = tabs.filter((candidate) => !candidate.hidden);
      const index = visible.indexOf(tab);
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: visible.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = visible[(next + visible.length) % visible.length];
      target.focus();
      selectTab(target.dataset.tab);
    });
  }

  // Tenants
  const reloadTenants = () => { state.tenants.page = 1; run(null, loadTenants); };
  $("tenant-filters").addEventListener("submit", (event) => { event.preventDefault(); reloadTenants(); });
  $("tenant-filters").addEventListener("change", reloadTenants);
  $("tenant-filters").elements.q.addEventListener("input", debounce(reloadTenants, 250));
  $("tenants-previous").addEventListener("click", (event) => { state.tenants.page--; run(event.currentTarget, loadTenants); });
  $("tenants-next").addEventListener("click", (event) => { state.tenants.page++; run(event.currentTarget, loadTenants); });
  $("new-tenant").addEventListener("click", (event) => run(event.currentTarget, createTenant));
  $("tenant-details-close").addEventListener("click", () => { $("tenant-details").hidden = true; });
  $("tenant-test").addEventListener("click", (event) => testTenant(event.currentTarget));
  $("tenant-credentials").addEventListener("click", (event) => showCredentials(event.currentTarget));
  $("tenant-edit").addEventListener("click", (event) => run(event.currentTarget, editTenant));
  $("tenant-delete").addEventListener("click", (event) => run(event.currentTarget, deleteTenant));

  // Organizations
  $("new-organization").addEventListener("click", (event) => run(event.currentTarget, createOrganization));
  $("organization-details-close").addEventListener("click", () => { $("organization-details").hidden = true; });
  $("organization-delete").addEventListener("click", (event) => run(event.currentTarget, deleteOrganization));
  $("assign-tenant").addEventListener("submit", (event) => {
    event.preventDefault();
    const organization = state.organization;
    const slug = event.target.elements.slug.value.trim();
    run(event.submitter, async () => {
      await api("PUT", `/organizations/${encodeURIComponent(organization.id)}/tenants/${encodeURIComponent(slug)}`);
      event.target.reset();
      notify("success", `Tenant ${slug} assigned to ${organization.name}.`);
      await loadOrganizations();
      await openOrganization(organization.id);
    });
  });
  $("sso-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const organization = state.organization;
    const form = event.target.elements;
    run(event.submitter, async () => {
      await api("PUT", `/organizations/${encodeURIComponent(organization.id)}/sso`, {
        entra_tenant_id: form.entra_tenant_id.value, client_id: form.client_id.value,
        client_secret: form.client_secret.value || undefined,
        allowed_domains: form.allowed_domains.value.split(/[\s,]+/).filter(Boolean),
      });
      notify("success", `SSO settings of ${organization.name} saved.`);
      await loadOrganizations();
      await openOrganization(organization.id);
    });
  });
  $("sso-remove").addEventListener("click", (event) => run(event.currentTarget, async () => {
    const organization = state.organization;
    const removed = await dialog({ title: "Remove SSO from " + organization.name + "?", confirm: "Remove SSO", danger: true,
      content: [el("p", { text: "Its users can no longer sign in with Microsoft Entra ID until SSO is configured again." })],
      submit: () => api("DELETE", `/organizations/${encodeURIComponent(organization.id)}/sso`) });
    if (!removed) return;
    notify("success", `SSO removed from ${organization.name}.`);
    await loadOrganizations();
    await openOrganization(organization.id);
  }));
  for (const input of document.querySelectorAll("input[list=tenant-slugs]")) {
    input.addEventListener("input", debounce(() => run(null, () => suggestTenants(input.value)), 200));
  }

  // Admin users
  $("new-admin").addEventListener("click", (event) => run(event.currentTarget, createAdmin));
  $("admin-details-close").addEventListener("click", () => { $("admin-details").hidden = true; });
  $("admin-role-save").addEventListener("click", (event) => run(event.currentTarget, () =>
    changeAdmin({ role: $("admin-role").value }, (admin) => `${admin.email} is now a ${admin.role === "superadmin" ? "superadmin" : "regular admin"}.`)));
  $("admin-active").addEventListener("click", (event) => run(event.currentTarget, async () => {
    const admin = state.adminUser;
    if (admin.is_active) {
      const confirmed = await dialog({ title: "Deactivate " + admin.email + "?", confirm: "Deactivate", danger: true,
        content: [el("p", { text: "They are signed out at once and cannot sign in until activated again." })] });
      if (!confirmed) return;
    }
    await changeAdmin({ is_active: !admin.is_active }, (updated) => `${updated.email} is ${updated.is_active ? "active" : "deactivated"}.`);
  }));
  $("admin-password").addEventListener("click", (event) => run(event.currentTarget, resetPassword));
  $("admin-delete").addEventListener("click", (event) => run(event.currentTarget, deleteAdmin));
  $("grant-tenant").addEventListener("submit", (event) => {
    event.preventDefault();
    const admin = state.adminUser;
    const slug = event.target.elements.slug.value.trim();
    run(event.submitter, async () => {
      await api("PUT", `/admin-users/${encodeURIComponent(admin.id)}/tenants/${encodeURIComponent(slug)}`);
      event.target.reset();
      notify("success", `${admin.email} now manages ${slug}.`);
      await loadAdmins();
      await openAdmin(admin.id);
    });
  });

  // Statistics and audit
  $("stats-refresh").addEventListener("click", (event) => run(event.currentTarget, () => loadStats(true)));
  $("requests-period").addEventListener("change", showRoutes);
  $("audit-filters").addEventListener("submit", (event) => { event.preventDefault(); run(event.submitter, () => loadAudit(null)); });
  $("audit-newest").addEventListener("click", (event) => run(event.currentTarget, () => loadAudit(null)));
  $("audit-older").addEventListener("click", (event) => run(event.currentTarget, () => loadAudit(state.audit.next)));

  window.addEventListener("hashchange", () => {
    const wanted = location.hash.slice(1);
    if (state.admin && tabNames().includes(wanted) && wanted !== state.tab) selectTab(wanted);
  });

  fetch("/admin/api/session", { headers: { Accept: "application/json" } })
    .then((response) => response.ok ? response.json().then(showSignedIn) : showSignedOut())
    .catch(() => showSignedOut("The server could not be reached."));
});
