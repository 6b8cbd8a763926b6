// Image input: pick, paste or drop; prepared in the browser; bad files refused with a
// message; what reaches the server checked from the demo model's last request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, composer, waitIdle, userMessages, assistantMessages, BASE, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const fileInput = (page) => page.locator("input.cf-file-input");

/** Makes an image in the page's canvas and returns its bytes. */
async function makeImage(page, { width, height, type, alpha = false, exifOrientation = null }) {
  const b64 = await page.evaluate(async ({ width, height, type, alpha, exifOrientation }) => {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (!alpha) { ctx.fillStyle = "#3366cc"; ctx.fillRect(0, 0, width, height); }
    ctx.fillStyle = "rgba(220, 40, 40, 0.6)";
    ctx.fillRect(0, 0, width / 2, height / 3);
    const blob = await canvas.convertToBlob({ type, quality: 0.9 });
    let bytes = new Uint8Array(await blob.arrayBuffer());
    if (exifOrientation) {
      // APP1 Exif segment with one IFD entry: Orientation (0x0112), SHORT, value.
      const tiff = [0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, exifOrientation, 0, 0, 0, 0, 0, 0];
      const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
      const len = payload.length + 2;
      const app1 = [0xff, 0xe1, len >> 8, len & 0xff, ...payload];
      const out = new Uint8Array(bytes.length + app1.length);
      out.set(bytes.subarray(0, 2), 0);
      out.set(app1, 2);
      out.set(bytes.subarray(2), 2 + app1.length);
      bytes = out;
    }
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, { width, height, type, alpha, exifOrientation });
  return Buffer.from(b64, "base64");
}

/** Width and height from a JPEG's SOF marker or a PNG's IHDR. */
function dimensions(buf) {
  if (buf[0] === 0x89) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  let pos = 2;
  while (pos < buf.length) {
    const marker = buf[pos + 1];
    const len = buf.readUInt16BE(pos + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: buf.readUInt16BE(pos + 5), width: buf.readUInt16BE(pos + 7) };
    pos += 2 + len;
  }
  return null;
}

async function lastRequest() {
  const res = await fetch(new URL("/v1/demo/last-request", BASE));
  return res.json();
}

function imageParts(body) {
  const user = body.messages.filter((m) => m.role === "user").at(-1);
  return Array.isArray(user.content) ? user.content.filter((p) => p.type === "image_url") : [];
}

function decodeDataUrl(url) {
  const [head, data] = url.split(",");
  return { mime: head.slice(5, head.indexOf(";")), bytes: Buffer.from(data, "base64") };
}

test("a 12-megapixel photo with EXIF orientation 6 is rotated, scaled to 2048 and sent as JPEG", async () => {
  const page = await openPage(browser);
  const photo = await makeImage(page, { width: 4000, height: 3000, type: "image/jpeg", exifOrientation: 6 });
  await fileInput(page).setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer: photo });
  const thumb = page.locator(".cf-thumb");
  await thumb.waitFor();
  // Portrait after rotation: 1536 x 2048; high detail scales to 768x1024 = 4 tiles → 4*170+85.
  assert.match(await thumb.getAttribute("data-name"), /photo\.jpg/);
  assert.match(await thumb.locator("img").getAttribute("alt"), /1536×2048/);
  assert.match(await page.locator(".cf-thumb-tokens").innerText(), /765/);
  await composer(page).fill("What is in this photo?");
  await shot(page, "image-attached");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await waitIdle(page);
  const parts = imageParts(await lastRequest());
  assert.equal(parts.length, 1);
  assert.equal(parts[0].image_url.detail, "auto");
  const { mime, bytes } = decodeDataUrl(parts[0].image_url.url);
  assert.equal(mime, "image/jpeg");
  assert.deepEqual(dimensions(bytes), { width: 1536, height: 2048 });
  assert.ok(bytes.length < photo.length, "smaller than the original");
  assert.ok(!bytes.includes(Buffer.from("Exif")), "metadata removed by the re-encode");
  // The demo model describes what it received; the transcript shows the image.
  assert.match(await assistantMessages(page).first().innerText(), /1536/);
  await userMessages(page).first().locator("img").waitFor();
  await shot(page, "image-sent");
  await page.context().close();
});

test("low detail sends the photo at 512 px at most, and back to auto sends the full size", async () => {
  const page = await openPage(browser);
  const photo = await makeImage(page, { width: 4000, height: 3000, type: "image/jpeg", exifOrientation: 6 });
  await fileInput(page).setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer: photo });
  await page.locator(".cf-thumb").waitFor();
  const detail = page.getByRole("combobox", { name: "Detail" });
  await detail.selectOption("low");
  assert.match(await page.locator(".cf-thumb-tokens").innerText(), /85/);
  await composer(page).fill("small please");
  // Sent at once, while the small copy may still be in preparation: it goes when ready.
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await userMessages(page).first().waitFor();
  await waitIdle(page);
  let [part] = imageParts(await lastRequest());
  assert.equal(part.image_url.detail, "low");
  assert.deepEqual(dimensions(decodeDataUrl(part.image_url.url).bytes), { width: 384, height: 512 }, "rotated, then 512 long");

  // Low, then auto again: the full 2048 copy goes.
  await fileInput(page).setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer: photo });
  await page.locator(".cf-thumb").waitFor();
  await detail.selectOption("low");
  await detail.selectOption("auto");
  await composer(page).fill("full size");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await userMessages(page).nth(1).waitFor();
  await waitIdle(page);
  [part] = imageParts(await lastRequest());
  assert.equal(part.image_url.detail, "auto");
  assert.deepEqual(dimensions(decodeDataUrl(part.image_url.url).bytes), { width: 1536, height: 2048 });
  await page.context().close();
});

test("a transparent PNG stays PNG and the chosen detail is sent", async () => {
  const page = await openPage(browser);
  const png = await makeImage(page, { width: 300, height: 200, type: "image/png", alpha: true });
  await fileInput(page).setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: png });
  await page.locator(".cf-thumb").waitFor();
  await page.getByRole("combobox", { name: "Detail" }).selectOption("low");
  assert.match(await page.locator(".cf-thumb-tokens").innerText(), /85/);
  await composer(page).fill("the logo");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await waitIdle(page);
  const [part] = imageParts(await lastRequest());
  assert.equal(part.image_url.detail, "low");
  const { mime, bytes } = decodeDataUrl(part.image_url.url);
  assert.equal(mime, "image/png");
  assert.deepEqual(dimensions(bytes), { width: 300, height: 200 });
  await page.context().close();
});

test("bad files get clear messages; typed text and good images stay", async () => {
  const page = await openPage(browser);
  await composer(page).fill("keep this text");
  const good = await makeImage(page, { width: 64, height: 64, type: "image/png" });
  await fileInput(page).setInputFiles({ name: "ok.png", mimeType: "image/png", buffer: good });
  await page.locator(".cf-thumb").waitFor();

  await fileInput(page).setInputFiles({ name: "fake.png", mimeType: "image/png", buffer: Buffer.from("just some text") });
  await page.getByRole("alert").filter({ hasText: "fake.png is not a PNG, JPEG, GIF or WebP image" }).waitFor();

  const huge = Buffer.alloc(21 * 1024 * 1024);
  good.copy(huge, 0, 0, 16);
  await fileInput(page).setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: huge });
  await page.getByRole("alert").filter({ hasText: "huge.png is 21.0 MB" }).waitFor();

  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>');
  await fileInput(page).setInputFiles({ name: "drawing.svg", mimeType: "image/svg+xml", buffer: svg });
  await page.getByRole("alert").filter({ hasText: "drawing.svg is an SVG drawing" }).waitFor();

  assert.equal(await page.locator(".cf-thumb").count(), 1, "the good image stays");
  assert.equal(await composer(page).inputValue(), "keep this text");
  assert.equal(await userMessages(page).count(), 0, "nothing was sent");
  await shot(page, "image-errors");
  await page.context().close();
});

test("five images when four are allowed: four attached, the fifth refused with a message", async () => {
  const page = await openPage(browser);
  const img = await makeImage(page, { width: 32, height: 32, type: "image/png" });
  const files = [1, 2, 3, 4, 5].map((i) => ({ name: `pic${i}.png`, mimeType: "image/png", buffer: img }));
  await fileInput(page).setInputFiles(files);
  await page.getByRole("alert").filter({ hasText: "At most 4 images per message" }).waitFor();
  assert.equal(await page.locator(".cf-thumb").count(), 4);
  await page.locator(".cf-thumb-remove").first().click();
  assert.equal(await page.locator(".cf-thumb").count(), 3);
  await page.context().close();
});

test("sent images survive a reload and are sent again on regenerate", async () => {
  const page = await openPage(browser);
  const img = await makeImage(page, { width: 120, height: 90, type: "image/jpeg" });
  await fileInput(page).setInputFiles({ name: "keep.jpg", mimeType: "image/jpeg", buffer: img });
  await page.locator(".cf-thumb").waitFor();
  await composer(page).fill("remember the picture");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await waitIdle(page);
  await page.reload();
  const shown = userMessages(page).first().locator("img");
  await shown.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('article[data-role="user"] img');
    return img && img.complete && img.naturalWidth === 120;
  });
  await assistantMessages(page).first().getByRole("button", { name: "Regenerate" }).click();
  await waitIdle(page);
  const parts = imageParts(await lastRequest());
  assert.equal(parts.length, 1, "the image is in the regenerated request");
  await page.context().close();
});

test("dropping files on the panel and pasting a screenshot both attach images", async () => {
  const page = await openPage(browser);
  await composer(page).waitFor();
  const png = await makeImage(page, { width: 80, height: 60, type: "image/png" });
  const b64 = png.toString("base64");
  // Drop: a drag over the panel shows the drop zone; dropping attaches the file.
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    window.__dt = new DataTransfer();
    window.__dt.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
    document.querySelector(".cf-panel").dispatchEvent(
      new DragEvent("dragover", { dataTransfer: window.__dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.locator(".cf-dropzone").waitFor();
  await page.evaluate(() => document.querySelector(".cf-panel").dispatchEvent(
    new DragEvent("drop", { dataTransfer: window.__dt, bubbles: true, cancelable: true })));
  await page.locator('.cf-thumb[data-name="dropped.png"]').waitFor();
  assert.equal(await page.locator(".cf-dropzone").count(), 0);
  // Paste: an image on the clipboard becomes an attachment, text stays text.
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "screenshot.png", { type: "image/png" }));
    document.querySelector("textarea.cf-input").dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.locator('.cf-thumb[data-name="screenshot.png"]').waitFor();
  assert.equal(await page.locator(".cf-thumb").count(), 2);
  assert.equal(await composer(page).inputValue(), "");
  await page.context().close();
});
