// Importing conversation files safely: images are judged by their bytes (an SVG or HTML
// "image" refuses the whole file and nothing changes), and every import gets fresh ids.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const WIDE = { viewport: { width: 1400, height: 900 } };

// A real 1×1 PNG.
const PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="localStorage.setItem(\'pwned\', \'1\')"/>';
const HTML = "<html><body><script>localStorage.setItem('pwned', '1')</script></body></html>";
const b64 = (text) => Buffer.from(text).toString("base64");

/** A conversation with one user message showing one image. */
function conversation(id, title, image) {
  return {
    format_version: 1, id, title, created_ms: 1_700_000_000_000, updated_ms: 1_700_000_000_001,
    settings: {}, active: 1,
    nodes: [
      { id: 0, role: "user", text: `About ${title}`, images: [{ id: image.id, mime: image.mime, width: 1, height: 1, bytes: 70, detail: "auto", name: image.name }] },
      { id: 1, parent: 0, role: "assistant", text: "A picture." },
    ],
  };
}

/** An export file; `images` maps image id to data URL. */
const exportFile = (conversations, images) => ({ confab_export: 1, conversations, images });

async function importFile(page, file, name = "import.json") {
  await page.locator('input[name="import"]').setInputFiles({
    name, mimeType: "application/json", buffer: Buffer.from(JSON.stringify(file)),
  });
}

const listIds = (page) => page.locator(".cf-pg-conv").evaluateAll((rows) => rows.map((r) => r.dataset.id));

/** Everything in one IndexedDB store of the widget: [{ key, value }]. */
async function stored(page, store) {
  return page.evaluate((store) => new Promise((resolve, reject) => {
    const req = indexedDB.open("confab");
    req.onsuccess = () => {
      const tx = req.result.transaction(store);
      const keys = tx.objectStore(store).getAllKeys();
      const values = tx.objectStore(store).getAll();
      tx.oncomplete = () => resolve(keys.result.map((key, i) => {
        const v = values.result[i];
        return { key, value: v instanceof Blob ? { type: v.type } : JSON.parse(v) };
      }));
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  }), store);
}

/** A good file whose id and image id the hostile files below reuse. */
const KEPT = exportFile(
  [conversation("c-kept", "Kept", { id: "img-kept", mime: "image/png", name: "kept.png" })],
  { "img-kept": `data:image/png;base64,${PNG_B64}` },
);

test("an SVG or HTML image refuses the whole file with a message naming it, and nothing changes", async () => {
  const page = await openPage(browser, "/", WIDE);
  await importFile(page, KEPT, "kept.json");
  await page.getByText("Imported: 1.").waitFor();
  const before = { list: await listIds(page), convs: await stored(page, "conversations"), images: await stored(page, "images") };

  const svgFile = exportFile([
    conversation("c-kept", "Fine", { id: "img-fine", mime: "image/png", name: "fine.png" }),
    conversation("c-kept", "Holiday", { id: "img-kept", mime: "image/svg+xml", name: "sunset.svg" }),
  ], {
    "img-fine": `data:image/png;base64,${PNG_B64}`,
    "img-kept": `data:image/svg+xml;base64,${b64(SVG)}`,
  });
  await importFile(page, svgFile, "svg.json");
  const alert = page.locator(".cf-pg-notice[role=alert] .cf-pg-notice-text");
  await alert.waitFor();
  assert.equal(await alert.innerText(),
    "Import failed: The image “sunset.svg” in the conversation “Holiday” is an SVG drawing, which can carry script; " +
    "only PNG, JPEG, WebP and GIF images can be imported. Nothing was imported.");
  await shot(page, "import-svg-refused");

  // An HTML page declared as a PNG, with no name: the image is named by its id.
  const htmlFile = exportFile(
    [conversation("c-other", "Report", { id: "img-report", mime: "image/png", name: "" })],
    { "img-report": `data:image/png;base64,${b64(HTML)}` },
  );
  await importFile(page, htmlFile, "html.json");
  await page.getByText("“img-report”", { exact: false }).waitFor();
  assert.equal(await alert.innerText(),
    "Import failed: The image “img-report” in the conversation “Report” is not a PNG, JPEG, WebP or GIF image, " +
    "whatever its type says. Nothing was imported.");

  assert.deepEqual(await listIds(page), before.list, "the conversation list is unchanged");
  assert.deepEqual(await stored(page, "conversations"), before.convs, "no conversation written or overwritten");
  assert.deepEqual(await stored(page, "images"), before.images, "no image written or overwritten");
  assert.equal(await page.evaluate(() => localStorage.getItem("pwned")), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the refusal is in Chinese on a Chinese page", async () => {
  const page = await openPage(browser, "/", { ...WIDE, locale: "zh-CN" });
  const file = exportFile(
    [conversation("c1", "假期", { id: "img-1", mime: "image/svg+xml", name: "sunset.svg" })],
    { "img-1": `data:image/svg+xml;base64,${b64(SVG)}` },
  );
  await importFile(page, file);
  const alert = page.locator(".cf-pg-notice[role=alert] .cf-pg-notice-text");
  await alert.waitFor();
  assert.equal(await alert.innerText(),
    "导入失败: 对话“假期”中的图片“sunset.svg”是 SVG 矢量图，可能携带脚本；只能导入 PNG、JPEG、WebP 和 GIF 图片。未导入任何内容。");
  assert.equal(await page.locator(".cf-pg-conv", { hasText: "假期" }).count(), 0);
  await page.context().close();
});

test("a good file imported twice gives two copies, each with its own ids and a sniffed image type", async () => {
  const page = await openPage(browser, "/", WIDE);
  // PNG bytes declared as JPEG: kept, and stored as what they are.
  const file = exportFile(
    [conversation("c-cat", "Cat picture", { id: "img-cat", mime: "image/jpeg", name: "cat.jpg" })],
    { "img-cat": `data:image/jpeg;base64,${PNG_B64}` },
  );
  const copies = page.locator(".cf-pg-conv", { hasText: "Cat picture" });
  await importFile(page, file, "cat.json");
  await copies.first().waitFor();
  await importFile(page, file, "cat.json");
  await copies.nth(1).waitFor();
  assert.equal(await copies.count(), 2);

  const ids = await copies.evaluateAll((rows) => rows.map((r) => r.dataset.id));
  assert.notEqual(ids[0], ids[1]);
  assert.ok(!ids.includes("c-cat"), "fresh conversation ids");

  const convs = (await stored(page, "conversations")).map((c) => c.value).filter((c) => c.title === "Cat picture");
  assert.equal(convs.length, 2);
  const refs = convs.map((c) => c.nodes[0].images[0]);
  assert.notEqual(refs[0].id, refs[1].id);
  assert.ok(!refs.some((r) => r.id === "img-cat"), "fresh image ids");
  assert.deepEqual(refs.map((r) => r.mime), ["image/png", "image/png"]);
  const images = await stored(page, "images");
  for (const ref of refs) {
    assert.deepEqual(images.find((i) => i.key === ref.id)?.value, { type: "image/png" }, ref.id);
  }

  // The copy shown draws its image from a Blob of the sniffed type.
  const thumb = page.locator(".cf-message-images img").first();
  await thumb.waitFor();
  const type = await thumb.evaluate(async (img) => (await (await fetch(img.src)).blob()).type);
  assert.equal(type, "image/png");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
