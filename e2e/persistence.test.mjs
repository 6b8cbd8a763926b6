// Nothing a user typed or received is lost to a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, waitMath, assistantMessages, userMessages, composer, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("reload restores the conversation and the unsent draft", async () => {
  const page = await openPage(browser);
  await send(page, "remember this question");
  await waitIdle(page);
  const answer = await assistantMessages(page).first().locator(".cf-markdown").innerText();
  await composer(page).fill("a draft I have not sent");
  await page.waitForTimeout(300); // the draft is saved on input
  await page.reload();
  await userMessages(page).first().waitFor();
  await waitMath(page);
  assert.match(await userMessages(page).first().innerText(), /remember this question/);
  assert.equal(await assistantMessages(page).first().locator(".cf-markdown").innerText(), answer);
  await page.waitForFunction(() => document.querySelector("textarea.cf-input")?.value === "a draft I have not sent");
  await page.context().close();
});

test("a reload during an answer keeps what had arrived, marked interrupted", async () => {
  const page = await openPage(browser);
  await send(page, "/demo slow");
  await page.waitForFunction(() => {
    const a = document.querySelector('article[data-role="assistant"] .cf-markdown');
    return a && a.textContent.trim().length > 5;
  });
  await page.waitForTimeout(600);
  await page.reload();
  const answer = assistantMessages(page).first();
  await answer.waitFor();
  assert.equal(await answer.getAttribute("data-state"), "interrupted");
  assert.ok((await answer.locator(".cf-markdown").innerText()).trim().length > 0, "partial text kept");
  await assert.doesNotReject(answer.getByRole("button", { name: "Regenerate" }).waitFor());
  await page.context().close();
});

test("a long conversation opens with its latest messages; earlier ones come on request", async () => {
  const page = await openPage(browser);
  const nodes = [];
  for (let i = 0; i < 150; i++) {
    nodes.push({
      id: i, ...(i > 0 ? { parent: i - 1 } : {}), ...(i < 149 ? { active_child: i + 1 } : {}),
      role: i % 2 ? "assistant" : "user", state: "done", text: `message ${i}`, created_ms: 1_700_000_000_000 + i,
    });
  }
  const file = {
    confab_export: 1, images: {},
    conversations: [{ id: "long-150", title: "Long", created_ms: 1_700_000_000_000, updated_ms: 1_700_000_000_149,
      format_version: 1, active: 149, settings: { json_mode: false, model: "", system_prompt: "" }, nodes }],
  };
  await page.locator('input[name="import"]').setInputFiles({
    name: "long.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(file)),
  });
  await page.getByText("Imported: 1.").waitFor();
  const rows = page.locator("article[data-role]");
  await rows.last().filter({ hasText: "message 149" }).waitFor();
  assert.equal(await rows.count(), 40, "only the latest 40 are drawn");
  await page.locator(".cf-log").evaluate((el) => { el.scrollTop = 0; });
  await shot(page, "long-conversation-top");

  await page.getByRole("button", { name: "Show earlier messages (110 more)" }).click();
  await rows.nth(139).waitFor();
  assert.equal(await rows.count(), 140);
  await page.getByRole("button", { name: "Show earlier messages (10 more)" }).click();
  await rows.nth(149).waitFor();
  assert.match(await rows.first().innerText(), /message 0/);
  assert.equal(await page.locator(".cf-earlier").count(), 0, "nothing left to show");

  // A reload opens it the same way again.
  await page.reload();
  await rows.last().filter({ hasText: "message 149" }).waitFor();
  assert.equal(await rows.count(), 40);
  await page.context().close();
});
