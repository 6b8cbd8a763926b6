// Model output is untrusted: a hostile answer renders as harmless text, makes zero remote
// requests, and runs no script. Code blocks get highlighting and a copy button.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, assistantMessages, BASE, shot } from "./lib.mjs";

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
  assert.equal(await assistantMessages(page).first().locator(".cf-markdown").innerText(), live);
  await page.context().close();
});
