// Embedding as real sites do it: the host page on one origin (a "site" served here on a
// second loopback port, with a strict CSP), confab-server on another. The three forms
// (script tag, <confab-chat> element, iframe) must load and stream; links that name a
// foreign endpoint must send nothing; release files that were tampered with must not run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { ask, launch, shot } from "./lib.mjs";

const BASE = (process.env.CONFAB_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
// `cargo xtask test` starts confab-server with `--allow-origin http://127.0.0.1:SITE_PORT` and
// `--embed-endpoint http://127.0.0.1:SITE_PORT/v1/chat/completions`. Run by hand without it,
// the demo server allows any origin and the allow-list tests skip.
const SITE_PORT = Number(process.env.CONFAB_SITE_PORT || 0);
const ENDPOINT = BASE + "/v1/chat/completions";

/** The CSP a host page needs for a widget served from BASE (README, "Embedding"). */
const HOST_CSP = `default-src 'self'; script-src 'self' ${BASE} 'wasm-unsafe-eval'; ` +
  `connect-src 'self' ${BASE}; frame-src ${BASE}; img-src 'self' data: blob:`;

let browser;
let site;
let SITE;
/** Requests the site received on its fake chat endpoint, with their bodies. */
const received = [];
let releaseTag = null;

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

const PAGES = {
  "/element": () => page("Element on another origin",
    `<confab-chat id="chat" data-endpoint="${ENDPOINT}" data-lang="en" data-storage-key="xo-element"></confab-chat>` +
    `<script async src="${BASE}/public/embed.js"></script>`),
  "/script": () => page("Script tag on another origin", releaseTag ??
    `<script async src="${BASE}/public/embed.js" data-endpoint="${ENDPOINT}" data-lang="en" data-storage-key="xo-script"></script>`),
  "/iframe": () => page("Iframe on another origin",
    `<iframe title="Chat" width="420" height="520" src="${BASE}/public/embed.html?endpoint=/v1/chat/completions&amp;title=Framed&amp;lang=en"></iframe>`),
};

/** A streamed answer from the site's own fake endpoint (the one --embed-endpoint lists). */
function fakeChat(req, res) {
  let body = "";
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    received.push(body);
    res.writeHead(200, { "Content-Type": "text/event-stream", "Access-Control-Allow-Origin": "*" });
    res.write('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"From the site endpoint."}}]}\n\n');
    res.write('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n');
    res.end("data: [DONE]\n\n");
  });
}

before(async () => {
  browser = await launch();
  // The release snippet printed by `cargo xtask dist`, pointed at BASE (when it was built).
  const rel = await fetch(BASE + "/release/index.html").catch(() => null);
  if (rel && rel.ok) {
    const tag = (await rel.text()).match(/<script [^>]*><\/script>/)?.[0];
    if (tag) {
      releaseTag = tag.replace(/src="([^"]+)"/, `src="${BASE}/release/$1"`)
        .replace(/data-endpoint="[^"]*"/, `data-endpoint="${ENDPOINT}" data-lang="en" data-storage-key="xo-script"`);
    }
  }
  site = http.createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "content-type", "Access-Control-Allow-Methods": "POST" });
      return res.end();
    }
    if (path === "/v1/chat/completions" && req.method === "POST") return fakeChat(req, res);
    if (path === "/favicon.ico") { res.writeHead(204); return res.end(); }
    const make = PAGES[path];
    if (!make) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": HOST_CSP });
    res.end(make());
  });
  await new Promise((resolve) => site.listen(SITE_PORT, "127.0.0.1", resolve));
  SITE = `http://127.0.0.1:${site.address().port}`;
});
after(async () => {
  await browser?.close();
  site?.close();
});

/** A fresh context and page; console errors and refused requests are collected. */
async function open(url, setup = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  await setup(context);
  const p = await context.newPage();
  p.errors = [];
  p.requests = [];
  p.on("request", (r) => p.requests.push(r.url()));
  p.on("pageerror", (e) => p.errors.push(String(e)));
  p.on("console", (m) => { if (m.type() === "error") p.errors.push(m.text()); });
  await p.goto(url);
  return p;
}

const answer = (scope) => scope.locator('article[data-role="assistant"]').last();

test("the script tag on another origin, under the documented CSP, loads and streams", async () => {
  const p = await open(SITE + "/script");
  await p.locator("confab-chat .cf-bubble").click();
  await ask(p, "hello from the script tag");
  const text = await answer(p).innerText();
  assert.match(text, /Hello from the Confab demo model/);
  assert.match(text, /hello from the script tag/);
  assert.deepEqual(p.errors, []);
  await shot(p, "crossorigin-script");
  await p.context().close();
});

test("the <confab-chat> element on another origin loads and streams", async () => {
  const p = await open(SITE + "/element");
  await ask(p, "hello from the element");
  assert.match(await answer(p).innerText(), /hello from the element/);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test("the iframe on another origin loads and streams", async () => {
  const p = await open(SITE + "/iframe");
  const frame = p.frameLocator("iframe");
  await ask(frame, "hello from the iframe");
  assert.match(await answer(frame).innerText(), /hello from the iframe/);
  assert.equal(await frame.locator(".cf-title").innerText(), "Framed");
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test("embed.html refuses to be framed by an origin the server does not allow", async (t) => {
  if (!SITE_PORT) { t.skip("the server allows every origin (no CONFAB_SITE_PORT)"); return; }
  // Same page, but from localhost: another origin, not in --allow-origin.
  const p = await open(`http://localhost:${site.address().port}/iframe`);
  await p.waitForTimeout(1500);
  const frame = p.frames().find((f) => f !== p.mainFrame());
  const mounted = frame ? await frame.locator("confab-chat").count().catch(() => 0) : 0;
  assert.equal(mounted, 0, "the framed chat must not render");
  assert.ok(p.errors.some((e) => /frame-ancestors/.test(e)), p.errors.join("\n"));
  await p.context().close();
});

test("a link naming a foreign endpoint shows why and sends nothing, the stored chat included", async () => {
  const before = received.length;
  const p = await open(BASE + "/public/embed.html?endpoint=/v1/chat/completions&lang=en");
  await ask(p, "my account number is SECRET-7731");
  assert.match(await answer(p).innerText(), /SECRET-7731/);
  const foreign = "https://elsewhere.example/v1/chat/completions";
  await p.goto(BASE + "/public/embed.html?endpoint=" + encodeURIComponent(foreign));
  const alert = p.locator("confab-chat [role=alert]");
  await alert.waitFor();
  assert.equal(await alert.innerText(),
    `This link's chat endpoint is not allowed here (${foreign}). Nothing was sent.`);
  assert.equal(await p.getByRole("textbox", { name: "Message" }).count(), 0);
  assert.equal(received.length, before);
  assert.deepEqual(p.requests.filter((u) => new URL(u).hostname === "elsewhere.example"), []);
  await p.context().close();
});

test("crafted endpoint links are refused too: other hosts in disguise, other paths of this origin", async () => {
  const p = await open(BASE + "/public/embed.html?lang=en");
  for (const crafted of [
    "//elsewhere.example/v1/chat/completions",
    "/\\elsewhere.example/v1/chat/completions",
    "\u00a0/\\elsewhere.example/v1/chat/completions",
    "\u3000//elsewhere.example/v1/chat/completions",
    "http:elsewhere.example/v1/chat/completions",
    "/v1/models",
    "/v1/chat/completions/../../account",
  ]) {
    await p.goto(BASE + "/public/embed.html?lang=en&endpoint=" + encodeURIComponent(crafted));
    const alert = p.locator("confab-chat [role=alert]");
    await alert.waitFor();
    assert.match(await alert.innerText(), /^This link's chat endpoint is not allowed here \(.*\)\. Nothing was sent\.$/s, JSON.stringify(crafted));
    assert.equal(await p.getByRole("textbox", { name: "Message" }).count(), 0, JSON.stringify(crafted));
  }
  assert.deepEqual(p.requests.filter((u) => new URL(u).hostname === "elsewhere.example"), []);
  await p.context().close();
});

test("a link cannot set a system prompt unless framed; a listed endpoint is allowed", async (t) => {
  const p = await open(BASE + "/public/embed.html?endpoint=/v1/chat/completions&lang=en&system-prompt=EVIL-PROMPT&title=Spoofed");
  await ask(p, "/demo echo");
  const echoed = await answer(p).innerText();
  assert.match(echoed, /"messages"/);
  assert.doesNotMatch(echoed, /EVIL-PROMPT/);
  assert.equal(await p.locator(".cf-title").innerText(), "Confab");
  if (!SITE_PORT) { t.skip("no --embed-endpoint configured"); await p.context().close(); return; }
  const before = received.length;
  await p.goto(BASE + "/public/embed.html?lang=en&endpoint=" + encodeURIComponent(SITE + "/v1/chat/completions"));
  await ask(p, "to the listed endpoint");
  assert.equal(await answer(p).locator(".cf-body").innerText(), "From the site endpoint.");
  assert.equal(received.length, before + 1);
  assert.match(received.at(-1), /to the listed endpoint/);
  await p.context().close();
});

// Release files: each one, changed by a single byte, must stop what depends on it.
const TAMPERED = [
  { file: "confab-0", pattern: /\/release\/confab-\d[^/]*\.js$/, stops: "widget" },
  { file: "confab_bg", pattern: /\/release\/confab_bg-[^/]*\.wasm$/, stops: "widget" },
  { file: "confab.css", pattern: /\/release\/confab-\d[^/]*\.css$/, stops: "widget" },
  { file: "confab-math-", pattern: /\/release\/confab-math-[^/]*\.js$/, stops: "math" },
  { file: "confab-math_bg", pattern: /\/release\/confab-math_bg-[^/]*\.wasm$/, stops: "math" },
];

for (const { file, pattern, stops } of TAMPERED) {
  test(`a release file changed by one byte is refused: ${file}`, async (t) => {
    if (!releaseTag) { t.skip("no release/ in the served folder"); return; }
    let hit = "";
    const p = await open(SITE + "/script", async (context) => {
      await context.route(pattern, async (route) => {
        const res = await route.fetch();
        const body = Buffer.from(await res.body());
        body[body.length >> 1] ^= 1;
        hit = new URL(route.request().url()).pathname.split("/").pop();
        await route.fulfill({ response: res, body });
      });
    });
    await p.locator("confab-chat .cf-bubble").click();
    if (stops === "widget") {
      await p.locator("confab-chat .cf-loading", { hasText: "could not load" }).waitFor();
      assert.equal(await p.getByRole("textbox", { name: "Message" }).count(), 0);
    } else {
      await ask(p, "/demo math");
      await p.locator("confab-chat .cf-math-error").first().waitFor();
      assert.equal(await p.locator("confab-chat math").count(), 0);
    }
    assert.ok(hit, "the tampered file was requested");
    const named = p.errors.filter((e) => e.startsWith("Confab:") && e.includes(hit));
    assert.ok(named.length > 0, `a console error names ${hit}:\n${p.errors.join("\n")}`);
    await p.context().close();
  });
}
