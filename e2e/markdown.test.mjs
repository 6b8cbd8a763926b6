// Model output is untrusted: a hostile answer renders as harmless text, makes zero remote
// requests, and runs no script. Code blocks get highlighting and a copy button.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, waitMath, assistantMessages, BASE, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Records every request that leaves for a host other than the Confab server. */
function watchRemote(page) {
  const remote = [];
  const own = new URL(BASE).host;
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["blob:", "data:"].includes(url.protocol) && url.host !== own) remote.push(r.url());
  });
  // Nothing may leave the machine anyway: answer any remote request locally.
  page.route((url) => url.host !== own && url.protocol.startsWith("http"), (route) => route.fulfill({ status: 204 }));
  return remote;
}

test("a hostile answer renders with no script, no unsafe URL and zero remote requests", async () => {
  const page = await openPage(browser);
  const remote = watchRemote(page);
  await page.evaluate(() => { window.__alerts = 0; window.alert = () => { window.__alerts++; }; });
  page.on("dialog", (d) => { remote.push("dialog:" + d.message()); d.dismiss(); });
  await send(page, "/demo markdown-attack");
  await waitIdle(page);
  const answer = assistantMessages(page).first();
  await shot(page, "markdown-attack");

  const report = await answer.evaluate((root) => {
    const bad = [];
    for (const el of root.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        if (/^on/i.test(attr.name)) bad.push(`${el.tagName} ${attr.name}`);
        if (["href", "src", "action", "formaction", "xlink:href"].includes(attr.name)) {
          const v = attr.value.trim().toLowerCase();
          if (!/^(https?:|mailto:|blob:)/.test(v)) bad.push(`${el.tagName} ${attr.name}=${attr.value}`);
        }
      }
      if (["SCRIPT", "IFRAME", "STYLE", "FORM", "OBJECT", "EMBED"].includes(el.tagName)) bad.push(el.tagName);
    }
    const imgs = [...root.querySelectorAll(".cf-markdown img")].map((i) => i.src);
    return { bad, imgs, text: root.innerText };
  });
  assert.deepEqual(report.bad, []);
  assert.deepEqual(report.imgs, [], "no remote image element before a click");
  assert.match(report.text, /<script>alert\('script tag'\)<\/script>/, "raw HTML shows as text");
  assert.match(report.text, /javascript link/);
  assert.equal(await page.evaluate(() => window.__alerts), 0);
  assert.deepEqual(remote, [], "zero requests to any remote host");

  // Safe links open in a new tab without opener or referrer.
  const ok = answer.locator('a[href="https://example.com/ok"]');
  assert.equal(await ok.getAttribute("target"), "_blank");
  assert.match(await ok.getAttribute("rel"), /noopener/);
  assert.match(await ok.getAttribute("rel"), /noreferrer/);

  // A remote image loads only after the user asks, naming its host first.
  const placeholder = answer.locator(".cf-image-placeholder").first();
  assert.match(await placeholder.innerText(), /attacker\.example/);
  await placeholder.click();
  await answer.locator(".cf-markdown img").first().waitFor();
  assert.equal(remote.length, 1, "exactly the one image the user clicked");
  assert.match(remote[0], /attacker\.example\/collect/);
  await page.context().close();
});

test("code blocks are highlighted and copy their code", async () => {
  const page = await openPage(browser);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await send(page, "/demo code");
  await waitIdle(page);
  const answer = assistantMessages(page).first();
  const blocks = answer.locator(".cf-code");
  assert.ok((await blocks.count()) >= 3, "several languages");
  // Colors come from the highlighter module, fetched with the first code block.
  await answer.locator(".cf-tok-kw").first().waitFor();
  assert.ok((await answer.locator(".cf-tok-kw").count()) > 5, "keywords are highlighted");
  const first = blocks.first();
  const code = await first.locator("pre code").innerText();
  await first.getByRole("button", { name: "Copy code" }).click();
  assert.equal((await page.evaluate(() => navigator.clipboard.readText())).trim(), code.trim());
  await shot(page, "markdown-code");
  await page.context().close();
});

test("a 50 KB answer streams to its end and is kept identical after a reload", async () => {
  const page = await openPage(browser);
  await send(page, "/demo long");
  await waitIdle(page, 120_000);
  const answer = assistantMessages(page).first();
  const live = await answer.locator(".cf-markdown").innerText();
  assert.ok(live.length > 20_000, `long answer (${live.length} chars)`);
  // The stored answer renders the same after a reload.
  await page.reload();
  await assistantMessages(page).first().waitFor();
  await waitMath(page);
  assert.equal(await assistantMessages(page).first().locator(".cf-markdown").innerText(), live);
  await page.context().close();
});

test("formulas render as MathML from a math module fetched only when the first formula appears", async () => {
  const page = await openPage(browser);
  const mathRequests = [];
  page.on("request", (r) => { if (/confab-math/.test(r.url())) mathRequests.push(r.url()); });
  await page.waitForTimeout(500);
  assert.deepEqual(mathRequests, [], "no math module before any formula");

  await send(page, "/demo math");
  await waitIdle(page);
  const answer = assistantMessages(page).first();
  await shot(page, "markdown-math");
  assert.ok((await answer.locator("math").count()) >= 6, "formulas are MathML");
  assert.ok((await answer.locator('math[display="block"]').count()) >= 2, "display formulas are blocks");
  assert.ok((await answer.locator("math mfrac").count()) >= 2, "fractions are real MathML");
  assert.ok((await answer.locator("math mtable").count()) >= 1, "the matrix is a table");
  // A math element is in the MathML namespace, built node by node.
  assert.equal(await answer.locator("math").first().evaluate((m) => m.namespaceURI), "http://www.w3.org/1998/Math/MathML");

  // The broken formula shows as its source, marked, with the reason on hover.
  const broken = answer.locator(".cf-math-error");
  assert.equal(await broken.count(), 1);
  assert.equal(await broken.locator("code").innerText(), "\\frac{1}");
  assert.ok((await broken.getAttribute("title")).length > 3, "the reason is given");
  // Dollar amounts are not math.
  assert.match(await answer.innerText(), /it costs \$5 and \$10/);

  assert.equal(mathRequests.filter((u) => u.endsWith(".wasm")).length, 1, "the module is fetched once");
  await page.context().close();
});

test("hostile formulas become text and never markup", async () => {
  const page = await openPage(browser);
  const remote = watchRemote(page);
  await page.evaluate(() => { window.__alerts = 0; window.alert = () => { window.__alerts++; }; });
  // Markup in \text is escaped by pulldown-latex; in \operatorname it is not, so the math
  // module refuses it (shown as source); a huge negative space is dropped by the allowlist.
  await send(page, "hostile: $\\text{<img src=x onerror=alert(1)>}$ and $x<y>z$ and " +
    "$\\operatorname{</mi><mtext style=\"background:url(https://attacker.example/m)\">PWN</mtext><mi>} x$ and $a\\hspace{-80em}b$");
  await waitIdle(page);
  const answer = assistantMessages(page).first();
  const report = await answer.locator("blockquote").evaluate((root) => ({
    imgs: root.querySelectorAll("img").length,
    handlers: [...root.querySelectorAll("*")].flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
    styles: [...root.querySelectorAll("math [style]")].map((el) => el.getAttribute("style")),
    mtexts: [...root.querySelectorAll("math mtext")].map((el) => el.textContent),
    spaces: [...root.querySelectorAll("math mspace")].map((el) => el.getAttribute("width")),
    failed: [...root.querySelectorAll(".cf-math-error")].map((el) => el.dataset.tex),
    rendered: root.querySelectorAll("math").length,
  }));
  assert.equal(report.imgs, 0);
  assert.deepEqual(report.handlers, []);
  assert.ok(report.mtexts.includes("<img src=x onerror=alert(1)>"), JSON.stringify(report.mtexts));
  assert.ok(!report.mtexts.includes("PWN"), "no element from inside an operator name");
  assert.equal(report.failed.length, 1, JSON.stringify(report.failed));
  assert.match(report.failed[0], /operatorname/);
  assert.equal(report.rendered, 3, "the other three formulas render");
  assert.ok(!report.spaces.includes("-80em"), JSON.stringify(report.spaces));
  assert.ok(report.styles.every((s) => !/url/i.test(s)), JSON.stringify(report.styles));
  assert.deepEqual(remote, []);
  assert.equal(await page.evaluate(() => window.__alerts), 0);
  await page.context().close();
});
