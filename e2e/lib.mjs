// Shared helpers for the end-to-end tests: one headless Chromium (Debian's), pages that
// fail the test on any uncaught page error, and the server's URL from `cargo xtask test`.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

export const BASE = process.env.CONFAB_URL ?? "http://127.0.0.1:8787";
export const ARTIFACTS = process.env.ARTIFACTS ?? path.resolve("artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

const FLAGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS });
}

/** A fresh context (own storage) and page; page errors are collected in `page.errors`. */
export async function openPage(browser, url = "/", options = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  await page.goto(new URL(url, BASE).href);
  return page;
}

export const composer = (page) => page.getByRole("textbox", { name: "Message" });
export const assistantMessages = (page) => page.locator('article[data-role="assistant"]');
export const userMessages = (page) => page.locator('article[data-role="user"]');

/** Types a message and presses Send. */
export async function send(page, text) {
  await composer(page).fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
}

/** Sends through the widget's composer in `scope` (a page or a frame) and waits for the
 *  answer to settle (the Send button is back). */
export async function ask(scope, text) {
  await scope.getByRole("textbox", { name: "Message" }).fill(text);
  await scope.getByRole("button", { name: "Send", exact: true }).click();
  await scope.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout: 30_000 });
}

/** Waits until no answer is running (the Send button is back) and formulas have settled. */
export async function waitIdle(page, timeout = 30_000) {
  await page.getByRole("button", { name: "Send", exact: true }).waitFor({ timeout });
  await waitMath(page, timeout);
}

/** Waits until every finished formula shows as MathML or, when it failed, as marked source. */
export async function waitMath(page, timeout = 30_000) {
  const pending = ".cf-math:not(.cf-math-rendered):not(.cf-math-error):not(.cf-math-open)";
  await page.locator(pending).first().waitFor({ state: "detached", timeout });
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}
