// The playground page: endpoint presets, parameters, view code, export/import and keys.
// Non-local presets are intercepted with page.route, so nothing leaves the machine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launch, openPage, send, waitIdle, assistantMessages, shot, BASE } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const WIDE = { viewport: { width: 1400, height: 900 } };
const open = (url = "/") => openPage(browser, url, WIDE);
const field = (page, name) => page.locator(`.cf-pg-side [name="${name}"]`);

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};
const SSE =
  'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello from the mock"}}]}\n\n' +
  'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
  "data: [DONE]\n\n";

/** Answers every request to `origin` locally and records the chat requests. */
async function fakeServer(page, origin) {
  const seen = [];
  await page.route(`${origin}/**`, async (route) => {
    const req = route.request();
    if (req.method() === "OPTIONS") return route.fulfill({ status: 204, headers: CORS });
    if (req.url().includes("/models")) {
      return route.fulfill({ status: 200, headers: { ...CORS, "content-type": "application/json" }, body: '{"data":[{"id":"mock-model"}]}' });
    }
    seen.push({ url: req.url(), headers: await req.allHeaders(), body: req.postDataJSON() });
    return route.fulfill({ status: 200, headers: { ...CORS, "content-type": "text/event-stream" }, body: SSE });
  });
  return seen;
}

async function lastRequest() {
  const res = await fetch(new URL("/v1/demo/last-request", BASE));
  return res.json();
}

/** Undoes the shell quoting of a curl `--data-raw '…'` argument. */
function shellUnquote(word) {
  let out = "";
  let rest = word.trim();
  for (;;) {
    assert.equal(rest[0], "'");
    const end = rest.indexOf("'", 1);
    out += rest.slice(1, end);
    rest = rest.slice(end + 1);
    if (rest.startsWith("\\'")) { out += "'"; rest = rest.slice(2); } else return out;
  }
}

async function storedConversations(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open("confab");
    req.onsuccess = () => {
      const all = req.result.transaction("conversations").objectStore("conversations").getAll();
      all.onsuccess = () => resolve(all.result.map((j) => JSON.parse(j)));
      all.onerror = () => reject(all.error);
    };
    req.onerror = () => reject(req.error);
  }));
}

async function setParameters(page) {
  await field(page, "model").fill("confab-demo");
  await field(page, "system_prompt").fill("You are terse. It's fine.");
  await field(page, "temperature").fill("0.7");
  await field(page, "top_p").fill("0.9");
  await field(page, "max_tokens").fill("321");
  await field(page, "seed").fill("42");
  await field(page, "presence_penalty").fill("0.5");
  await field(page, "frequency_penalty").fill("-0.25");
  await field(page, "stop").fill("END\nSTOP");
  await field(page, "json_mode").check();
}

test("switching presets changes the request URL and headers", async () => {
  const page = await open();
  const openai = await fakeServer(page, "https://api.openai.com");
  const azure = await fakeServer(page, "https://myres.openai.azure.com");
  const ollama = await fakeServer(page, "http://localhost:11434");
  await fakeServer(page, "http://example.com");

  await field(page, "preset").selectOption("openai");
  await field(page, "api_key").fill("sk-test-123");
  await page.locator("#cf-pg-models option[value='mock-model']").waitFor({ state: "attached" });
  await send(page, "hello openai");
  await waitIdle(page);
  assert.equal(openai.length, 1);
  assert.equal(openai[0].url, "https://api.openai.com/v1/chat/completions");
  assert.equal(openai[0].headers.authorization, "Bearer sk-test-123");
  assert.match(await assistantMessages(page).last().innerText(), /Hello from the mock/);

  await field(page, "preset").selectOption("azure");
  await field(page, "base_url").fill("https://myres.openai.azure.com");
  await field(page, "base_url").press("Tab");
  await field(page, "deployment").fill("dep1");
  await field(page, "deployment").press("Tab");
  await send(page, "hello azure");
  await waitIdle(page);
  assert.equal(azure.length, 1);
  assert.equal(azure[0].url, "https://myres.openai.azure.com/openai/deployments/dep1/chat/completions?api-version=2024-10-21");
  assert.equal(azure[0].headers["api-key"], "sk-test-123");
  assert.equal(azure[0].headers.authorization, undefined);

  await field(page, "preset").selectOption("ollama");
  await send(page, "hello ollama");
  await waitIdle(page);
  assert.equal(ollama.length, 1);
  assert.equal(ollama[0].url, "http://localhost:11434/v1/chat/completions");
  assert.equal(openai.length + azure.length, 2, "the key went to the chosen endpoint only");
  assert.equal(await page.locator(".cf-pg-warning").count(), 0, "localhost over http is fine");

  await field(page, "preset").selectOption("custom");
  await field(page, "base_url").fill("http://example.com/v1");
  await field(page, "base_url").press("Tab");
  await page.locator(".cf-pg-warning").waitFor();
  assert.match(await page.locator(".cf-pg-warning").innerText(), /unencrypted/);
  await shot(page, "playground-custom-warning");

  await field(page, "preset").selectOption("confab");
  await send(page, "/demo echo");
  await waitIdle(page);
  const body = await lastRequest();
  assert.equal(body.messages.at(-1).content, "/demo echo");
  // Only model lists of servers that are not running (the custom preset's localhost default).
  assert.deepEqual(page.errors.filter((e) => !e.includes("ERR_CONNECTION_REFUSED")), []);
  await page.context().close();
});

test("every parameter reaches the request body, and the code shown equals the request sent", async () => {
  const page = await open();
  await setParameters(page);
  await send(page, "/demo echo");
  await waitIdle(page);
  const sent = await lastRequest();
  assert.equal(sent.model, "confab-demo");
  assert.deepEqual(sent.messages[0], { role: "system", content: "You are terse. It's fine." });
  assert.equal(sent.temperature, 0.7);
  assert.equal(sent.top_p, 0.9);
  assert.equal(sent.max_tokens, 321);
  assert.equal(sent.seed, 42);
  assert.equal(sent.presence_penalty, 0.5);
  assert.equal(sent.frequency_penalty, -0.25);
  assert.deepEqual(sent.stop, ["END", "STOP"]);
  assert.deepEqual(sent.response_format, { type: "json_object" });

  await page.getByRole("button", { name: "View code" }).click();
  const code = page.locator(".cf-pg-code");
  await page.waitForFunction(() => document.querySelector(".cf-pg-code")?.textContent.includes("--data-raw"));
  const curl = await code.textContent();
  assert.match(curl, new RegExp(`^curl -N '${BASE.replace(/[.]/g, "\\.")}/v1/chat/completions'`));
  assert.deepEqual(JSON.parse(shellUnquote(curl.split("--data-raw ")[1])), sent);
  await shot(page, "playground-view-code");

  await page.getByRole("tab", { name: "Python" }).click();
  const py = await code.textContent();
  assert.deepEqual(JSON.parse(py.split('r"""')[1].split('"""')[0]), sent);
  await page.getByRole("tab", { name: "JavaScript" }).click();
  const js = await code.textContent();
  assert.deepEqual(JSON.parse(js.split("const body = ")[1].split(";\n\nconst response")[0]), sent);
  await page.getByRole("button", { name: "Close" }).click();

  // Settings belong to the conversation: a reload brings them back.
  await page.reload();
  await field(page, "temperature").waitFor();
  await page.waitForFunction(() => document.querySelector('.cf-pg-side [name="temperature"]').value === "0.7");
  assert.equal(await field(page, "stop").inputValue(), "END\nSTOP");
  assert.match(await page.getByTestId("conversation-usage").innerText(), /^Answers: 1 · \d+ \+ \d+ = \d+ tokens$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("export then import gives an equal conversation", async () => {
  const page = await open();
  await field(page, "temperature").fill("0.3");
  await send(page, "export me");
  await waitIdle(page);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "This conversation (JSON)" }).click(),
  ]);
  const file = JSON.parse(await readFile(await download.path(), "utf8"));
  assert.equal(file.confab_export, 1);
  assert.equal(file.conversations.length, 1);
  const exported = file.conversations[0];

  await page.locator('input[name="import"]').setInputFiles({
    name: "export.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(file)),
  });
  await page.getByText("Imported: 1.").waitFor();
  const stored = await storedConversations(page);
  const imported = stored.find((c) => c.id !== exported.id && c.title === exported.title && c.created_ms === exported.created_ms);
  assert.ok(imported, "the imported copy is stored");
  assert.deepEqual({ ...imported, id: exported.id }, exported);
  assert.equal(await page.locator(".cf-pg-conv").count(), 2);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a bad import file gets a clear message; a partly bad one imports the good part", async () => {
  const page = await open();
  const input = page.locator('input[name="import"]');
  await input.setInputFiles({ name: "bad.json", mimeType: "application/json", buffer: Buffer.from("this is not json") });
  const alert = page.locator(".cf-pg-notice[role=alert]");
  await alert.waitFor();
  assert.match(await alert.innerText(), /Import failed: This file is not valid JSON/);

  const good = { format_version: 1, id: "c-good", title: "Good one", settings: {}, nodes: [
    { id: 0, role: "user", text: "hi" }, { id: 1, parent: 0, role: "assistant", text: "hello" }], active: 1 };
  const file = { confab_export: 1, conversations: [{ title: "Broken", nodes: "x" }, good], images: {} };
  await input.setInputFiles({ name: "mixed.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(file)) });
  await page.getByText(/Imported: 1\. Conversation 1 \(“Broken”\) was skipped/).waitFor();
  await page.locator(".cf-pg-conv", { hasText: "Good one" }).waitFor();
  await shot(page, "playground-import-partial");
  await page.context().close();
});

test("a key is never written to localStorage unless remember is ticked", async () => {
  const page = await open();
  await fakeServer(page, "https://api.openai.com");
  await field(page, "preset").selectOption("openai");
  await field(page, "api_key").fill("sk-very-secret-key");
  const dump = () => page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }),
  }));
  let d = await dump();
  assert.ok(!d.local.includes("sk-very-secret-key"), "not in localStorage");
  assert.ok(d.session.includes("sk-very-secret-key"), "kept for the tab");
  await send(page, "hi");
  await waitIdle(page);
  const convs = await storedConversations(page);
  assert.ok(!JSON.stringify(convs).includes("sk-very-secret"), "not in IndexedDB");

  await field(page, "remember_key").check();
  d = await dump();
  assert.ok(d.local.includes("sk-very-secret-key"));
  assert.ok(!d.session.includes("sk-very-secret-key"));
  await page.reload();
  await field(page, "api_key").waitFor();
  assert.equal(await field(page, "api_key").inputValue(), "sk-very-secret-key");
  await field(page, "remember_key").uncheck();
  d = await dump();
  assert.ok(!d.local.includes("sk-very-secret-key"), "gone from localStorage after unticking");
  await page.context().close();
});

test("conversations: new, rename, search, delete with undo; templates fill the message box", async () => {
  const page = await open();
  await send(page, "first topic about apples");
  await waitIdle(page);
  await page.getByRole("button", { name: "New chat" }).click();
  await send(page, "second topic about pears");
  await waitIdle(page);
  const items = page.locator(".cf-pg-conv");
  assert.equal(await items.count(), 2);

  await items.filter({ hasText: "first topic" }).getByRole("button", { name: "Rename" }).click();
  const rename = page.locator(".cf-pg-rename");
  await rename.fill("Apples");
  await rename.press("Enter");
  await items.filter({ hasText: "Apples" }).waitFor();

  await page.getByRole("searchbox", { name: "Search conversations" }).fill("pears");
  await page.waitForFunction(() => document.querySelectorAll(".cf-pg-conv").length === 1);
  await page.getByRole("searchbox", { name: "Search conversations" }).fill("");

  await items.filter({ hasText: "Apples" }).getByRole("button", { name: "Delete" }).click();
  await page.getByText("Conversation deleted.").waitFor();
  assert.equal(await items.count(), 1);
  await page.getByRole("button", { name: "Undo" }).click();
  await items.filter({ hasText: "Apples" }).waitFor();
  await items.filter({ hasText: "Apples" }).locator(".cf-pg-conv-open").click();
  await page.locator('article[data-role="user"]', { hasText: "first topic about apples" }).waitFor();

  await page.getByRole("button", { name: "Use Translate" }).click();
  await page.locator('.cf-pg-fill [name="language"]').fill("French");
  await page.locator('.cf-pg-fill [name="text"]').fill("Good morning");
  await page.getByRole("button", { name: "Insert into message box" }).click();
  const box = page.getByRole("textbox", { name: "Message" });
  assert.match(await box.inputValue(), /into French\. .*\n\nGood morning$/s);
  await shot(page, "playground");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
