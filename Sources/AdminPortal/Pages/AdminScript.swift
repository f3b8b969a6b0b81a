/// The admin portal's script: sign-in, and the Tenants tab over `/admin/api/tenants`.
/// Values from the server are only ever set as text, never parsed as HTML.
enum AdminScript {
    static let javascript = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);

        async function api(method, path, body) {
          const init = { method, headers: {} };
          if (body !== undefined) {
            init.headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
          }
          const response = await fetch("/admin/api" + path, init);
          const data = response.status === 204 ? null : await response.json();
          if (!response.ok) {
            const error = (data && data.error) || { message: response.statusText };
            throw new Error(error.message + (error.hint ? " (" + error.hint + ")" : ""));
          }
          return data;
        }

        function say(text) { $("message").textContent = text || ""; }

        async function guarded(action) {
          try { say(""); await action(); } catch (error) { say(error.message); }
        }

        function button(label, action) {
          const element = document.createElement("button");
          element.textContent = label;
          element.addEventListener("click", () => guarded(action));
          return element;
        }

        function show(object) {
          $("details").hidden = false;
          $("details").textContent = JSON.stringify(object, null, 2);
        }

        async function showSignedIn(admin) {
          $("who").textContent = admin.email + " (" + admin.role + ")";
          $("sign-in").hidden = true;
          $("sign-out").hidden = false;
          $("tenants").hidden = false;
          $("create-tenant").hidden = admin.role !== "superadmin";
          await loadTenants(admin);
        }

        function showSignedOut() {
          $("who").textContent = "";
          $("sign-in").hidden = false;
          $("sign-out").hidden = true;
          $("tenants").hidden = true;
          $("details").hidden = true;
        }

        async function loadTenants(admin) {
          const tenants = await api("GET", "/tenants");
          const rows = $("tenant-rows");
          rows.replaceChildren();
          for (const tenant of tenants) {
            const row = rows.insertRow();
            for (const value of [tenant.name, tenant.slug, tenant.status, tenant.schema_version || "", tenant.created_at || ""]) {
              row.insertCell().textContent = value;
            }
            const path = "/tenants/" + encodeURIComponent(tenant.slug);
            const actions = row.insertCell();
            actions.append(
              button("Details", async () => show(await api("GET", path))),
              button("Credentials", async () => {
                const credentials = await api("GET", path + "/credentials");
                show(credentials);
                if (navigator.clipboard) {
                  await navigator.clipboard.writeText(credentials.admin_password)
                    .then(() => say("The admin password is on the clipboard."), () => {});
                }
              }),
              button("Test", async () => show(await api("POST", path + "/test"))),
              button("Edit", async () => {
                const name = prompt("Name", tenant.name);
                if (name === null) return;
                const status = prompt("Status (active or inactive)", tenant.status);
                if (status === null) return;
                const change = { name };
                if (status !== tenant.status) change.status = status;
                show(await api("PATCH", path, change));
                await loadTenants(admin);
              }));
            if (admin.role === "superadmin") {
              actions.append(button("Delete", async () => {
                const typed = prompt("This drops the tenant's database. Type its slug to confirm:");
                if (typed === null) return;
                await api("DELETE", path + "?confirm=" + encodeURIComponent(typed));
                await loadTenants(admin);
              }));
            }
          }
        }

        document.addEventListener("DOMContentLoaded", () => {
          $("sign-in").addEventListener("submit", (event) => {
            event.preventDefault();
            const form = new FormData(event.target);
            guarded(async () => showSignedIn(await api("POST", "/session",
              { email: form.get("email"), password: form.get("password") })));
          });
          $("sign-out").addEventListener("click", () => guarded(async () => {
            try { await api("DELETE", "/session"); } finally { showSignedOut(); }
          }));
          $("create-tenant").addEventListener("submit", (event) => {
            event.preventDefault();
            const form = new FormData(event.target);
            guarded(async () => {
              const created = await api("POST", "/tenants", { name: form.get("name"), slug: form.get("slug") });
              show(created);
              event.target.reset();
              await loadTenants(await api("GET", "/session"));
            });
          });
          api("GET", "/session").then((admin) => guarded(() => showSignedIn(admin)), showSignedOut);
        });
        """#
}
