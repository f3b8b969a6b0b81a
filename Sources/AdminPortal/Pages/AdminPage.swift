/// The admin portal's page at `/admin/`: a shell whose script (``AdminScript``) drives the
/// admin API. No inline script, so the Content-Security-Policy can forbid every other source.
enum AdminPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>pgperm admin</title>
        <link rel="stylesheet" href="/admin/app.css">
        <script src="/admin/app.js" defer></script>
        </head>
        <body>
        <header><h1>pgperm admin</h1><span id="who"></span> <button id="sign-out" hidden>Sign out</button></header>
        <main>
        <form id="sign-in" hidden>
          <h2>Sign in</h2>
          <label>Email <input name="email" type="email" autocomplete="username" required></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
          <button>Sign in</button>
        </form>
        <section id="tenants" hidden>
          <h2>Tenants</h2>
          <form id="create-tenant" hidden>
            <label>Name <input name="name" required></label>
            <label>Slug <input name="slug" required pattern="[a-z0-9][a-z0-9\\-]*[a-z0-9]" title="lower-case letters, digits and single hyphens"></label>
            <button>Create tenant</button>
          </form>
          <table>
            <thead><tr><th>Name</th><th>Slug</th><th>Status</th><th>Schema</th><th>Created</th><th></th></tr></thead>
            <tbody id="tenant-rows"></tbody>
          </table>
          <pre id="details" hidden></pre>
        </section>
        <p id="message" role="status"></p>
        </main>
        </body>
        </html>
        """

    static let css = """
        body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
        header { display: flex; gap: 1em; align-items: center; padding: .5em 1.5em; background: #26415f; color: #fff; }
        header h1 { font-size: 1.2em; margin: 0; flex: 1; }
        main { padding: 1em 1.5em; }
        label { display: inline-block; margin: 0 1em .5em 0; }
        table { border-collapse: collapse; margin-top: 1em; }
        th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #ddd; }
        td button { margin-right: .3em; }
        pre { background: #f4f4f4; padding: 1em; max-width: 60em; white-space: pre-wrap; }
        #message { color: #a00; }
        """
}
