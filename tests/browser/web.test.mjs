// Browser tests of grantd's web side (issue 5) in headless Debian Chromium driven by
// playwright-core: sign in, the doc index, class search, a class page (copy buttons, phone
// width), creating and revoking an OAuth application, the pages without JavaScript, and
// openapi.json validated as OpenAPI 3.1. Screenshots go to tests/output/.
// Run: GRANTD_BIN=build/grantd node --test tests/browser/   (make browser)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Validator } from "@seriousme/openapi-schema-validator";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const bin = resolve(process.env.GRANTD_BIN || join(root, "build", "grantd"));
const outDir = join(root, "tests", "output");
const PASSWORD = "browser-test-password-7";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let dir, server, base, context, page;

function cli(...args) {
    return execFileSync(bin, args, { encoding: "utf8", input: PASSWORD + "\n" });
}

async function startServer() {
    const db = join(dir, "grantd.db");
    cli("init", "--db", db);
    cli("seed", "--db", db, "--grants", "15", "--random-seed", "3");
    cli("user", "add", "browser_admin", "--role", "admin", "--db", db, "--password-stdin");
    server = spawn(bin, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--threads", "2",
        "--rate-limits", "off"], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    base = await new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error("no 'listening on':\n" + log)), 30000);
        server.stderr.on("data", (d) => {
            log += d;
            const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(log);
            if (m) {
                clearTimeout(timer);
                ok(m[1]);
            }
        });
        server.on("exit", (code) => fail(new Error("grantd exited " + code + ":\n" + log)));
    });
}

async function shot(name, p = page) {
    await p.screenshot({ path: join(outDir, name + ".png"), fullPage: false });
}

before(async () => {
    mkdirSync(outDir, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "grantd-browser-"));
    await startServer();
    // A fresh profile (--user-data-dir) for every run.
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
        executablePath: CHROMIUM, headless: true, args: FLAGS,
        viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] || await context.newPage();
});

after(async () => {
    if (context) await context.close();
    if (server) server.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
});

test("signing in leads to the documentation", async () => {
    const r = await page.goto(base + "/api/rest/v2/doc");
    assert.equal(r.status(), 200);
    assert.match(page.url(), /\/login\?next=/);
    await shot("01-sign-in");
    await page.fill("#login", "browser_admin");
    await page.fill("#password", "not the password");
    await page.click("button[type=submit]");
    await page.waitForSelector("p.notice.bad");
    assert.match(await page.textContent("p.notice.bad"), /Wrong login or password/);
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(base + "/api/rest/v2/doc"), page.click("main button[type=submit]")]);
    assert.match(await page.textContent("h1"), /grantd REST API/);
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === "grantd_session");
    assert.ok(session && session.httpOnly && session.sameSite === "Lax");
    await shot("02-doc-index");
});

test("the class search filters as you type", async () => {
    await page.goto(base + "/api/rest/v2/doc#classes");
    await page.fill("#class-search", "transaction");
    const visible = await page.$$eval("#class-list li",
        (lis) => lis.filter((li) => !li.hidden).map((li) => li.querySelector("code").textContent));
    assert.ok(visible.includes("request_transaction"), visible);
    assert.ok(!visible.includes("grant_request"), visible);
    assert.equal(await page.textContent("#class-count"), String(visible.length));
    await page.locator("#class-search").scrollIntoViewIfNeeded();
    await shot("03-class-search");
});

test("a class page: samples with copy buttons, field table, readable on a phone", async () => {
    await page.goto(base + "/api/rest/v2/doc");
    await page.fill("#class-search", "grant_request");
    await Promise.all([page.waitForURL(/grant_request\/doc$/),
        page.click('#class-list a[href="/api/rest/v2/grant_request/doc"]')]);
    assert.match(await page.textContent("h1"), /grant_request/);
    const samples = await page.$$eval("pre code[id^=sample-]", (cs) => cs.map((c) => c.id));
    assert.deepEqual(samples.slice(0, 4), ["sample-list", "sample-list-post", "sample-list-all",
        "sample-page2"]);
    const buttons = await page.$$(".sample button.copy");
    assert.equal(buttons.length, samples.length);
    await buttons[0].click();
    await page.waitForFunction(() => document.querySelector(".sample button.copy").textContent === "Copied");
    assert.ok(await page.$$eval("#field-rows tr", (rows) => rows.length) > 50);
    await page.fill("#field-search", "amount_req");
    const shown = await page.$$eval("#field-rows tr", (rows) =>
        rows.filter((r) => !r.hidden).map((r) => r.dataset.name));
    assert.ok(shown.includes("amount_requested") && !shown.includes("program_id"), shown);
    await page.fill("#field-search", "");
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot("04-class-page");
    await page.locator("#fields").scrollIntoViewIfNeeded();
    await shot("05-field-table");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(base + "/api/rest/v2/grant_request/doc");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, "page wider than a phone by " + overflow + "px");
    await shot("06-class-page-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
});

test("create an OAuth application, see its secret once, revoke it", async () => {
    await page.goto(base + "/oauth/applications");
    await page.fill("#name", "Browser <test> app");
    await page.fill("#redirect_uri", "https://example.org/callback");
    await page.check("input[name=read_only]");
    await Promise.all([page.waitForURL(base + "/oauth/applications"), page.click("main button[type=submit]")]);
    assert.match(await page.textContent("h1"), /Application created/);
    const id = (await page.textContent("#client_id")).trim();
    const secret = (await page.textContent("#client_secret")).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(secret, /^[0-9a-f]{64}$/);
    await shot("07-app-created");
    const token = await fetch(base + "/oauth/token", { method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: id, client_secret: secret }) });
    assert.equal(token.status, 200);
    await Promise.all([page.waitForURL(base + "/oauth/applications/" + id), page.click("text=Done")]);
    assert.ok(!(await page.content()).includes(secret), "secret shown again");
    assert.equal((await page.textContent("#access")).trim(), "read-only");
    await Promise.all([page.waitForURL(/done=revoked/), page.click("button.danger")]);
    assert.match(await page.textContent("#status"), /revoked/);
    await shot("08-app-revoked");
    const again = await fetch(base + "/oauth/token", { method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: id, client_secret: secret }) });
    assert.equal(again.status, 401);
    await page.goto(base + "/oauth/applications");
    assert.ok((await page.content()).includes("Browser &lt;test&gt; app"));
    await shot("09-app-list");
});

test("the pages work without JavaScript", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
        const ctx = await browser.newContext({ javaScriptEnabled: false });
        const p = await ctx.newPage();
        await p.goto(base + "/login");
        await p.fill("#login", "browser_admin");
        await p.fill("#password", PASSWORD);
        await Promise.all([p.waitForURL(base + "/api/rest/v2/doc"), p.click("main button[type=submit]")]);
        assert.equal(await p.$$eval(".sample button.copy", (b) => b.length), 0);
        await p.fill("#class-search", "geo_");
        await Promise.all([p.waitForURL(/q=geo_/), p.press("#class-search", "Enter")]);
        const listed = await p.$$eval("#class-list li code", (cs) => cs.map((c) => c.textContent));
        assert.ok(listed.includes("geo_city") && !listed.includes("grant_request"), listed);
        await shot("10-no-javascript-search", p);
        await ctx.close();
    } finally {
        await browser.close();
    }
});

test("openapi.json is valid OpenAPI 3.1", async () => {
    const r = await context.request.get(base + "/api/rest/v2/openapi.json");
    assert.equal(r.status(), 200);
    const spec = await r.json();
    const validator = new Validator();
    const res = await validator.validate(spec);
    assert.ok(res.valid, JSON.stringify(res.errors, null, 1)?.slice(0, 3000));
    assert.equal(validator.version, "3.1");
});
