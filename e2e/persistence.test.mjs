// Nothing a user typed or received is lost to a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, waitMath, assistantMessages, userMessages, composer } from "./lib.mjs";

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
