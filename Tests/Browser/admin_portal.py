"""Drives the admin page in a real Chromium, as a person would: every tab and flow of the
portal against a live `pgperm serve` (scripts/browser-test starts it), then a single sign-on
through the OpenID provider the script starts on another site (SSO_PROVIDER). Saves a
screenshot of each tab into the folder given as the second argument. Fails on the first flow that does
not work, and on any message the browser logs at SEVERE (a CSP violation, a script error).

    python admin_portal.py http://127.0.0.1:PORT docs/screenshots
"""
import json
import os
import re
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, SHOTS = sys.argv[1], sys.argv[2]
SUPERADMIN = (os.environ.get("ADMIN_EMAIL", "fuzz@example.com"), os.environ.get("ADMIN_PASSWORD", "fuzzing-passphrase"))
os.makedirs(SHOTS, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
wait = WebDriverWait(driver, 30)
slow = WebDriverWait(driver, 120)
steps = 0


def step(text):
    global steps
    steps += 1
    print(f"  {steps:2}. {text}", flush=True)


def by_id(name):
    return driver.find_element(By.ID, name)


def visible(name):
    return wait.until(EC.visibility_of_element_located((By.ID, name)))


def click(name):
    wait.until(EC.element_to_be_clickable((By.ID, name))).click()


def text_of(name):
    return by_id(name).text


def notice(expected_kind, contains):
    """The message strip shows a success or an error, told apart by its class and wording."""
    wait.until(lambda d: by_id("notice").is_displayed() and contains in text_of("notice-text"))
    kind = by_id("notice").get_attribute("class")
    assert expected_kind in kind, f"expected a {expected_kind} message, got {kind}: {text_of('notice-text')}"
    return text_of("notice-text")


def dialog(values=None, confirm=True, timeout=wait, then_closes=True):
    """Fills the open dialog's fields by name and confirms; waits for it to close."""
    wait.until(lambda d: by_id("dialog").get_attribute("open") is not None)
    for name, value in (values or {}).items():
        field = driver.find_element(By.CSS_SELECTOR, f"#dialog-body [name='{name}']")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    click("dialog-confirm" if confirm else "dialog-cancel")
    if then_closes:
        timeout.until(lambda d: by_id("dialog").get_attribute("open") is None)


def dialog_error():
    wait.until(lambda d: by_id("dialog-error").is_displayed())
    return text_of("dialog-error")


def tab(name):
    click(f"tab-{name}")
    visible(f"panel-{name}")


def rows(body):
    return driver.find_elements(By.CSS_SELECTOR, f"#{body} tr")


def row_texts(body):
    # Read in one go in the page: the rows are replaced as lists reload.
    return driver.execute_script(f"return [...document.querySelectorAll('#{body} tr')].map((row) => row.innerText)")


def click_in_row(body, contains):
    """Clicks the button of the row whose text holds `contains`, once that row is there."""
    wait.until(lambda d: d.execute_script(
        "const row = [...document.querySelectorAll(`#${arguments[0]} tr`)].find((r) => r.innerText.includes(arguments[1]));"
        "if (!row) return false; row.querySelector('button').click(); return true;", body, contains))


def wait_rows(body, predicate):
    wait.until(lambda d: predicate(row_texts(body)))


def screenshot(name):
    time.sleep(0.3)  # let the last layout settle
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def sign_in(email, password):
    visible("sign-in")
    form = by_id("sign-in")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password, Keys.ENTER)
    visible("app")
    wait.until(lambda d: email in text_of("who"))


def sign_out():
    click("sign-out")
    visible("sign-in")


def open_tenant(slug):
    tab("tenants")
    search = by_id("tenant-filters").find_element(By.NAME, "q")
    search.clear()
    search.send_keys(slug)
    wait_rows("tenant-rows", lambda texts: len(texts) == 1 and slug in texts[0])
    click_in_row("tenant-rows", slug)
    wait.until(lambda d: by_id("tenant-details").is_displayed() and slug in text_of("tenant-fields"))


def call(url, method, body, cookie=None):
    """A JSON request outside the browser (setting up what a person would not click)."""
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def create_tenant(name, slug, server=""):
    tab("tenants")
    click("new-tenant")
    dialog({"name": name, "slug": slug, "server": server}, timeout=slow)
    notice("success", f"Tenant “{name}” created")
    wait.until(lambda d: slug in text_of("tenant-fields"))


try:
    driver.get(BASE + "/admin/")
    step("a wrong password is an error message, in the error style")
    visible("sign-in")
    by_id("sign-in").find_element(By.NAME, "email").send_keys(SUPERADMIN[0])
    by_id("sign-in").find_element(By.NAME, "password").send_keys("not the password", Keys.ENTER)
    notice("error", "wrong password")
    driver.refresh()

    step("the superadmin signs in and sees every tab, the Admin Users tab included")
    sign_in(*SUPERADMIN)
    assert by_id("tab-admins").is_displayed()

    step("creates three tenants through the dialog: server automatic and chosen")
    create_tenant("Acme Corporation", "acme")
    connection = visible("tenant-connection")
    wait.until(lambda d: "Connected" in connection.text and "Latency" in connection.text)
    assert re.search(r"Database size\s+\d", connection.text), connection.text
    server = Select(by_id("filter-server")).options[1].get_attribute("value")
    create_tenant("Globex", "globex", server)
    create_tenant("Initech", "initech")

    step("a taken slug is refused inside the dialog, in people's words")
    click("new-tenant")
    wait.until(lambda d: by_id("dialog").get_attribute("open") is not None)
    driver.find_element(By.CSS_SELECTOR, "#dialog-body [name='name']").send_keys("Acme again")
    driver.find_element(By.CSS_SELECTOR, "#dialog-body [name='slug']").send_keys("acme")
    click("dialog-confirm")
    error = dialog_error()
    assert "already exists" in error and "/admin/api" not in error and "pgperm" not in error, error
    click("dialog-cancel")

    step("details are labelled fields with local dates; credentials are shown with copy buttons")
    open_tenant("acme")
    details = text_of("tenant-fields")
    for label in ["Slug", "Status", "Server", "Database", "Organization", "Schema version", "Created", "Updated"]:
        assert label in details, details
    assert not re.search(r"\d{4}-\d\d-\d\dT", details), "no raw ISO timestamps"
    assert "{" not in details, "no JSON dumps"
    click("tenant-credentials")
    wait.until(lambda d: by_id("tenant-credentials-box").is_displayed())
    credentials = text_of("credential-fields")
    assert "Admin password" in credentials and "Connection string" in credentials
    assert len(driver.find_elements(By.CSS_SELECTOR, "#credential-fields button")) == 3
    screenshot("tenant-details")

    step("edit: rename, then suspend through the status field")
    click("tenant-edit")
    dialog({"name": "Acme Corp"})
    notice("success", "Tenant “Acme Corp” saved")
    open_tenant("globex")
    click("tenant-edit")
    dialog({"status": "inactive"})
    notice("success", "saved")
    wait.until(lambda d: "Inactive" in text_of("tenant-fields"))
    assert "Not tested: the tenant is inactive" in text_of("tenant-connection")

    step("the list: search, filter by status and server, paging")
    tab("tenants")
    Select(by_id("tenant-filters").find_element(By.NAME, "status")).select_by_value("inactive")
    by_id("tenant-filters").find_element(By.NAME, "q").clear()
    wait_rows("tenant-rows", lambda texts: len(texts) == 1 and "globex" in texts[0])
    Select(by_id("tenant-filters").find_element(By.NAME, "status")).select_by_value("")
    Select(by_id("filter-server")).select_by_value(server)
    wait_rows("tenant-rows", lambda texts: len(texts) == 4)
    Select(by_id("filter-server")).select_by_value("")
    wait.until(lambda d: "4 tenants" in text_of("tenants-page"))
    screenshot("tenants")

    step("delete: the dialog wants the slug typed; a wrong one leaves the tenant")
    open_tenant("initech")
    click("tenant-delete")
    wait.until(lambda d: by_id("dialog").get_attribute("open") is not None)
    assert "cannot be undone" in text_of("dialog-body")
    driver.find_element(By.CSS_SELECTOR, "#dialog-body [name='confirm']").send_keys("initec")
    click("dialog-confirm")  # the field's pattern refuses it: nothing is sent
    assert by_id("dialog").get_attribute("open") is not None
    field = driver.find_element(By.CSS_SELECTOR, "#dialog-body [name='confirm']")
    field.send_keys("h")
    click("dialog-confirm")
    wait.until(lambda d: by_id("dialog").get_attribute("open") is None)
    notice("success", "Tenant “Initech” deleted")
    wait.until(lambda d: "No tenant matches" in text_of("tenant-rows"))
    by_id("tenant-filters").find_element(By.NAME, "q").clear()
    by_id("tenant-filters").find_element(By.NAME, "q").send_keys(Keys.ENTER)
    wait.until(lambda d: "3 tenants" in text_of("tenants-page"))

    step("an organization with tenants, and its SSO settings (the secret never comes back)")
    tab("organizations")
    click("new-organization")
    dialog({"name": "Acme Holdings", "admin_email": "it@acme.example"})
    notice("success", "Organization “Acme Holdings” created")
    wait.until(lambda d: by_id("organization-details").is_displayed() and text_of("organization-details-title") == "Acme Holdings")
    for slug in ["acme", "globex"]:
        assign = by_id("assign-tenant").find_element(By.NAME, "slug")
        assign.send_keys(slug)
        by_id("assign-tenant").find_element(By.TAG_NAME, "button").click()
        notice("success", f"Tenant {slug} assigned")
    wait.until(lambda d: "acme" in text_of("organization-tenants") and "globex" in text_of("organization-tenants"))
    sso = by_id("sso-form")
    sso.find_element(By.NAME, "entra_tenant_id").send_keys("acme.onmicrosoft.com")
    sso.find_element(By.NAME, "client_id").send_keys("0b3c5d7e-1111-4222-8333-944455556666")
    sso.find_element(By.NAME, "client_secret").send_keys("very-secret-value")
    sso.find_element(By.NAME, "allowed_domains").send_keys("acme.example, Acme.Example")
    sso.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    notice("success", "SSO settings of Acme Holdings saved")
    wait.until(lambda d: "Configured" in text_of("sso-state"))
    assert sso.find_element(By.NAME, "client_secret").get_attribute("value") == ""
    assert sso.find_element(By.NAME, "allowed_domains").get_attribute("value") == "acme.example"
    assert "very-secret-value" not in driver.page_source
    wait_rows("organization-rows", lambda texts: any("acme, globex" in text and "Configured" in text for text in texts))
    screenshot("organizations")
    tab("tenants")
    wait_rows("tenant-rows", lambda texts: any("acme" in text and "Acme Holdings" in text for text in texts))

    step("an admin user with a generated password, shown once, and a granted tenant")
    tab("admins")
    click("new-admin")
    dialog({"email": "ops@example.com", "role": "admin"}, then_closes=False)
    # The same dialog now shows the password, once.
    wait.until(lambda d: d.find_elements(By.ID, "secret-value") and by_id("secret-value").text)
    generated = by_id("secret-value").text
    click("dialog-confirm")
    notice("success", "Admin user ops@example.com created")
    wait.until(lambda d: by_id("admin-details").is_displayed() and "ops@example.com" in text_of("admin-details-title"))
    grant = by_id("grant-tenant").find_element(By.NAME, "slug")
    grant.send_keys("acme")
    by_id("grant-tenant").find_element(By.TAG_NAME, "button").click()
    notice("success", "ops@example.com now manages acme")
    wait_rows("admin-rows", lambda texts: any("ops@example.com" in text and "acme" in text for text in texts))
    screenshot("admin-users")

    step("the last superadmin may not demote themself: a clear error")
    click_in_row("admin-rows", SUPERADMIN[0])
    wait.until(lambda d: "(you)" in text_of("admin-details-title"))
    assert not by_id("admin-delete").is_displayed(), "no Delete button for yourself"
    Select(by_id("admin-role")).select_by_value("admin")
    click("admin-role-save")
    notice("error", "last active superadmin")

    step("the regular admin sees its tenant only, and no Admin Users tab")
    sign_out()
    sign_in("ops@example.com", generated)
    assert not by_id("tab-admins").is_displayed()
    wait_rows("tenant-rows", lambda texts: len(texts) == 1 and "acme" in texts[0])
    assert not by_id("new-tenant").is_displayed()
    driver.get(BASE + "/admin/#admins")
    visible("panel-tenants")
    assert not by_id("panel-admins").is_displayed(), "the Admin Users tab cannot be reached by its address"
    tab("organizations")
    # Another admin's tenant is not shown (waited for: the superadmin's rows may still be on screen).
    wait_rows("organization-rows", lambda texts: any("Acme Holdings" in text for text in texts)
              and not any("globex" in text for text in texts))
    tab("audit")
    wait_rows("audit-rows", lambda texts: len(texts) > 0 and all("acme" in text for text in texts))
    sign_out()

    step("statistics match what was created: tenants by status, users, storage, sessions, requests")
    sign_in(*SUPERADMIN)
    tab("stats")
    wait.until(lambda d: "Counts read at" in text_of("stats-state"))
    cards = {card.find_element(By.CLASS_NAME, "label").text: card.find_element(By.CLASS_NAME, "figure").text
             for card in driver.find_elements(By.CSS_SELECTOR, "#stats-cards .card")}
    # fuzz (from the set-up), acme and globex; initech was deleted; globex is suspended.
    assert cards["Tenants"] == "3", cards
    assert "2 active · 1 inactive" in text_of("stats-cards"), text_of("stats-cards")
    # Each active tenant holds its initial admin; a suspended one is not read.
    assert cards["Tenant users"] == "2", cards
    assert re.match(r"\d", cards["Tenant storage"]) and "MB" in cards["Tenant storage"], cards
    assert int(cards["Active sessions"]) >= 1, cards
    storage = row_texts("storage-rows")
    assert len(storage) == 3 and any("globex" in text and "Inactive" in text for text in storage), storage
    assert len(driver.find_elements(By.CSS_SELECTOR, "#requests-chart rect")) > 0, "the chart has bars"
    assert any("POST /admin/api/tenants" in text for text in row_texts("route-rows"))
    assert len(row_texts("server-rows")) >= 1
    screenshot("statistics")
    # Refresh reads every tenant database again and says so while it waits.
    by_id("stats-refresh").click()
    wait.until(lambda d: "Counts read at" in text_of("stats-state") and by_id("stats-refresh").is_enabled())

    step("the audit view shows the actions under the admin's email, filterable")
    tab("audit")
    wait_rows("audit-rows", lambda texts: len(texts) > 5)
    texts = "\n".join(row_texts("audit-rows"))
    for label in ["Tenant created", "Tenant deleted", "Credentials shown", "Organization created", "SSO configured",
                  "Admin user created", "Tenant granted", "Tenant suspended"]:
        assert label in texts, label
    assert SUPERADMIN[0] in texts
    action = by_id("audit-filters").find_element(By.NAME, "action")
    action.send_keys("tenant.delete", Keys.ENTER)
    wait_rows("audit-rows", lambda texts: len(texts) == 1 and "Tenant deleted" in texts[0] and "initech" in texts[0])
    action.clear()
    action.send_keys(Keys.ENTER)
    wait_rows("audit-rows", lambda texts: len(texts) > 5)
    screenshot("audit")

    step("keyboard: the tabs follow the arrow keys, and focus is visible")
    by_id("tab-audit").send_keys(Keys.ARROW_LEFT)
    visible("panel-stats")
    assert driver.switch_to.active_element.get_attribute("id") == "tab-stats"
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", outline

    step("a narrow screen: the page fits its width")
    driver.set_window_size(390, 844)
    tab("tenants")
    wait_rows("tenant-rows", lambda texts: len(texts) == 3)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = driver.execute_script("""return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && e.offsetParent !== null
                       && !(e.parentElement && e.parentElement.closest('.scroll, .tabs')))
        .map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)""")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen: {wide}"
    screenshot("narrow")

    step("no script error and no policy violation was logged")
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
              and "wrong_credentials" not in entry["message"] and "401" not in entry["message"]
              and "409" not in entry["message"]]
    assert not severe, severe

    step("single sign-on: a work email finds the tenant, the provider (another site) signs in, the tenant session opens")
    provider = os.environ["SSO_PROVIDER"]
    member = call(f"{BASE}/t/fuzz/api/users", "POST", {"username": "ada", "email": "ada@initrode.example"},
                  cookie=os.environ["TENANT_COOKIE"])
    call(f"{provider}/users/ada-sub", "PUT", {"email": "ada@initrode.example", "email_verified": True, "name": "Ada"})
    driver.set_window_size(1024, 700)
    driver.get(BASE + "/sso/discover")
    email = wait.until(EC.visibility_of_element_located((By.NAME, "email")))
    # The page's own stylesheet applies (allowed by its hash; a refused one is a logged violation, checked below).
    assert driver.execute_script("return getComputedStyle(document.querySelector('main')).backgroundColor") == "rgb(255, 255, 255)"
    screenshot("sso-discovery")
    email.send_keys("ada@initrode.example", Keys.ENTER)
    subject = wait.until(EC.visibility_of_element_located((By.ID, "subject-input")))
    assert driver.current_url.startswith(provider + "/oauth2/authorize?"), driver.current_url
    assert "login_hint=ada%40initrode.example" in driver.current_url, driver.current_url
    subject.send_keys("ada-sub", Keys.ENTER)
    # The callback's page sends the browser on to the tenant's session, which names Ada.
    wait.until(lambda d: d.current_url == f"{BASE}/t/fuzz/api/session")
    session = json.loads(driver.find_element(By.TAG_NAME, "body").text)
    assert session["user_id"] == member["user_id"] and session["slug"] == "fuzz", session
    cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
    session_cookie = next(cookie for name, cookie in cookies.items() if name.startswith("pgperm_session_"))
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict", session_cookie
    assert "pgperm_sso" not in cookies, "the sign-in's binding cookie is cleared"
    # The provider's own page fetches a stylesheet from a CDN; the portal's pages (JSON, and
    # the sign-in pages, which have no icon) are the ones to check.
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE" and BASE in entry["message"]
              and "/favicon.ico" not in entry["message"]]
    assert not severe, severe
    print(f"browser test: {steps} steps passed; screenshots in {SHOTS}")
except Exception:
    driver.save_screenshot(os.path.join(SHOTS, "failure.png"))
    print(f"browser test: step {steps} failed; the page is in {SHOTS}/failure.png", file=sys.stderr)
    raise
finally:
    driver.quit()
