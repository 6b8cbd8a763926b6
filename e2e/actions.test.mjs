// Stop, regenerate, edit and resend: the answer controls a user reaches for every day.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, assistantMessages, userMessages, composer } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("Stop mid-answer keeps the partial text, marked as stopped", async () => {
  const page = await openPage(browser);
  await send(page, "/demo slow");
  const answer = assistantMessages(page).first();
  // Wait for some text, then stop.
  await page.waitForFunction(() => {
    const a = document.querySelector('article[data-role="assistant"] .cf-markdown');
    return a && a.textContent.trim().length > 5;
  });
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await waitIdle(page);
  assert.equal(await answer.getAttribute("data-state"), "stopped");
  const partial = (await answer.locator(".cf-markdown").innerText()).trim();
  assert.ok(partial.length > 5, "partial text kept");
  await page.waitForTimeout(1500);
  assert.equal((await answer.locator(".cf-markdown").innerText()).trim(), partial, "nothing more arrives after Stop");
  assert.equal(await composer(page).evaluate((el) => el === document.activeElement), true, "focus back in the composer");
  await page.context().close();
});

test("Escape stops the answer from the keyboard", async () => {
  const page = await openPage(browser);
  await send(page, "/demo slow");
  await page.getByRole("button", { name: "Stop", exact: true }).waitFor();
  await composer(page).focus();
  await page.keyboard.press("Escape");
  await waitIdle(page);
  assert.equal(await assistantMessages(page).first().getAttribute("data-state"), "stopped");
  await page.context().close();
});

test("Regenerate makes a sibling answer with 2/2 navigation", async () => {
  const page = await openPage(browser);
  await send(page, "first question");
  await waitIdle(page);
  await page.getByRole("button", { name: "Regenerate" }).click();
  await waitIdle(page);
  assert.equal(await userMessages(page).count(), 1, "the question is not duplicated");
  assert.equal(await assistantMessages(page).count(), 1);
  await assert.doesNotReject(page.getByText("2/2").waitFor());
  await page.getByRole("button", { name: "Previous version" }).click();
  await assert.doesNotReject(page.getByText("1/2").waitFor());
  await page.context().close();
});

test("Edit and resend replaces the branch and keeps the old one reachable", async () => {
  const page = await openPage(browser);
  await send(page, "original wording");
  await waitIdle(page);
  await userMessages(page).first().getByRole("button", { name: "Edit" }).click();
  const box = userMessages(page).first().getByRole("textbox", { name: "Message" });
  await box.fill("better wording");
  await box.press("Enter");
  await waitIdle(page);
  assert.match(await userMessages(page).first().innerText(), /better wording/);
  assert.match(await assistantMessages(page).first().innerText(), /better wording/);
  await userMessages(page).first().getByRole("button", { name: "Previous version" }).click();
  await assert.doesNotReject(userMessages(page).first().getByText("original wording").waitFor());
  await page.context().close();
});

test("Enter during IME composition does not send; Shift+Enter adds a line", async () => {
  const page = await openPage(browser);
  const box = composer(page);
  await box.click();
  // A composing Enter (keyCode 229 / isComposing) must not send.
  await box.evaluate((el) => {
    el.value = "你好";
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new CompositionEvent("compositionstart", { bubbles: true }));
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", keyCode: 229, isComposing: true, bubbles: true, cancelable: true }));
  });
  await page.waitForTimeout(300);
  assert.equal(await userMessages(page).count(), 0, "nothing was sent while composing");
  await box.press("Shift+Enter");
  await box.type("second line");
  assert.match(await box.inputValue(), /\nsecond line$/);
  assert.equal(await userMessages(page).count(), 0);
  await box.press("Enter");
  await waitIdle(page);
  assert.equal(await userMessages(page).count(), 1);
  await page.context().close();
});

test("keyboard only: Tab reaches the composer, Enter sends, actions are buttons", async () => {
  const page = await openPage(browser);
  await page.keyboard.press("Tab");
  let guard = 0;
  while (!(await composer(page).evaluate((el) => el === document.activeElement)) && guard++ < 10) {
    await page.keyboard.press("Tab");
  }
  await page.keyboard.type("typed without a mouse");
  await page.keyboard.press("Enter");
  await waitIdle(page);
  assert.equal(await assistantMessages(page).first().getAttribute("data-state"), "done");
  // Tab onward reaches the message actions.
  const copy = assistantMessages(page).first().getByRole("button", { name: "Copy", exact: true });
  await copy.focus();
  assert.equal(await copy.evaluate((el) => el === document.activeElement), true);
  await page.context().close();
});

test("auto-scroll follows the answer, stops when the user scrolls up, and Jump to latest returns", async () => {
  const page = await openPage(browser);
  const log = page.getByRole("log");
  const gap = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await send(page, "/demo long");
  await page.waitForFunction(() => document.querySelector(".cf-log").scrollHeight > 3000);
  assert.ok((await gap()) < 60, "stuck to the bottom while streaming");
  const jump = page.getByRole("button", { name: "Jump to latest" });
  // A wheel event can be lost while the page is busy streaming: scroll up again if so.
  for (let i = 0; i < 5 && !(await jump.isVisible()); i++) {
    await log.hover();
    await page.mouse.wheel(0, -800);
    await jump.waitFor({ timeout: 2000 }).catch(() => {});
  }
  await jump.waitFor();
  const held = await log.evaluate((el) => el.scrollTop);
  await page.waitForTimeout(500);
  assert.ok(Math.abs((await log.evaluate((el) => el.scrollTop)) - held) < 5, "the view stays where the user put it");
  await jump.click();
  await waitIdle(page, 120_000);
  await page.waitForTimeout(300);
  assert.ok((await gap()) < 60, "back at the end after Jump to latest");
  assert.equal(await jump.count(), 0);
  await page.context().close();
});

test("a finished answer leaves the view at the end with no Jump button", async () => {
  const page = await openPage(browser);
  await send(page, "/demo code");
  await waitIdle(page);
  await page.waitForTimeout(300);
  assert.equal(await page.getByRole("button", { name: "Jump to latest" }).count(), 0);
  await page.context().close();
});

test("an answer cut at the token limit offers Continue, which extends the same message", async () => {
  const page = await openPage(browser);
  await send(page, "/demo length");
  await waitIdle(page);
  const answer = assistantMessages(page).first();
  const before = (await answer.locator(".cf-markdown").innerText()).length;
  await answer.getByRole("button", { name: "Continue" }).click();
  await waitIdle(page);
  assert.equal(await assistantMessages(page).count(), 1, "no new message");
  const after = (await assistantMessages(page).first().locator(".cf-markdown").innerText()).length;
  assert.ok(after > before + 20, `the answer grew (${before} -> ${after})`);
  assert.equal(await page.getByText("1/2").count(), 0, "not a sibling");
  await page.context().close();
});
