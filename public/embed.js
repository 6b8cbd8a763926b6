// Confab embed loader: <script async src=".../public/embed.js" data-endpoint="..."></script>
//
// Draws the chat bubble at once, loads the widget (wasm) only on hover, focus, idle time or
// the first click, and keeps everything inside a shadow root so host styles cannot reach it.
// Also defines <confab-chat> for inline use. Plain JavaScript, no inline code, no eval:
// it runs under `script-src 'self' 'wasm-unsafe-eval'`.
(() => {
  "use strict";
  const script = document.currentScript;
  const base = new URL("../", script ? script.src : location.href);
  const ATTRS = ["endpoint", "model", "title", "welcome", "lang", "theme", "position", "accent",
    "system-prompt", "max-images", "image-hosts", "storage-key"];

  let wasmPromise = null;
  let cssPromise = null;

  /** Loads the widget module once per page; every widget shares it. */
  function loadWidget() {
    if (!wasmPromise) {
      wasmPromise = import(new URL("confab.js", base).href).then(async (mod) => {
        await mod.default({ module_or_path: new URL("confab_bg.wasm", base) });
        return mod;
      });
      wasmPromise.catch((err) => console.error("Confab: the widget could not load.", err));
    }
    return wasmPromise;
  }

  /** The widget's CSS as a constructed sheet: applies under `style-src 'self'`. */
  function loadCss() {
    if (!cssPromise) {
      cssPromise = fetch(new URL("confab.css", base))
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status))))
        .then((text) => {
          const sheet = new CSSStyleSheet();
          sheet.replaceSync(text + LOADER_CSS);
          return sheet;
        });
    }
    return cssPromise;
  }

  const LOADER_CSS = `
:host { all: initial; display: block; position: relative; contain: layout style; }
:host([data-mode="bubble"]) { position: fixed; z-index: 2147483000; bottom: 20px; right: 20px; width: 0; height: 0; }
:host([data-mode="bubble"][data-position="bottom-left"]) { right: auto; left: 20px; }
.cf-bubble { position: absolute; bottom: 0; right: 0; width: var(--cf-bubble-size, 56px); height: var(--cf-bubble-size, 56px);
  border-radius: 50%; border: 0; cursor: pointer; background: var(--cf-accent, #2563eb); color: #fff;
  box-shadow: 0 4px 16px rgb(0 0 0 / 0.25); display: grid; place-items: center; padding: 0; }
:host([data-position="bottom-left"]) .cf-bubble, :host([data-position="bottom-left"]) .cf-popup { right: auto; left: 0; }
.cf-bubble svg { width: 26px; height: 26px; fill: currentColor; }
.cf-popup { position: absolute; bottom: calc(var(--cf-bubble-size, 56px) + 12px); right: 0;
  width: min(400px, calc(100vw - 40px)); height: min(620px, calc(100vh - 110px));
  border-radius: var(--cf-radius, 12px); overflow: hidden; box-shadow: 0 10px 40px rgb(0 0 0 / 0.28); background: #fff; }
.cf-popup[hidden] { display: none; }
.cf-inline { height: 100%; min-height: 320px; }
.cf-loading { padding: 16px; font: 14px system-ui, sans-serif; color: #5d6470; }
@media (max-width: 600px) {
  .cf-popup { position: fixed; inset: 0; width: 100vw; height: 100dvh; border-radius: 0; }
}`;

  const BUBBLE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16v12H8l-4 4z"/></svg>';

  class ConfabChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: "open" });
      this.mode = this.getAttribute("data-mode") === "bubble" ? "bubble" : "inline";
      loadCss().then((sheet) => { root.adoptedStyleSheets = [sheet]; })
        .catch((err) => console.error("Confab: styles could not load.", err));
      if (this.mode === "bubble") {
        this.bubble = document.createElement("button");
        this.bubble.className = "cf-bubble";
        this.bubble.part = "bubble";
        this.bubble.setAttribute("aria-label", this.dataset.title || "Chat");
        this.bubble.setAttribute("aria-expanded", "false");
        this.bubble.innerHTML = BUBBLE_ICON; // a constant, never model or host data
        this.bubble.addEventListener("click", () => this.toggle());
        const warm = () => loadWidget();
        this.bubble.addEventListener("pointerenter", warm, { once: true });
        this.bubble.addEventListener("focus", warm, { once: true });
        this.popup = document.createElement("div");
        this.popup.className = "cf-popup";
        this.popup.hidden = true;
        root.append(this.popup, this.bubble);
        if ("requestIdleCallback" in window) requestIdleCallback(warm, { timeout: 8000 });
      } else {
        this.popup = document.createElement("div");
        this.popup.className = "cf-inline";
        root.append(this.popup);
        this.mountWidget();
      }
    }

    config() {
      const out = {};
      for (const name of ATTRS) {
        const v = this.getAttribute("data-" + name);
        if (v !== null) out[name] = v;
      }
      return Object.assign(out, this.extraConfig || {});
    }

    mountWidget() {
      if (this.mounted) return this.mounted;
      const slot = document.createElement("div");
      slot.className = "cf-loading";
      slot.textContent = "Loading…";
      this.popup.append(slot);
      this.mounted = Promise.all([loadWidget(), loadCss()]).then(([mod]) => {
        slot.className = "cf-mount";
        slot.textContent = "";
        slot.style.height = "100%";
        mod.mount(slot, this.config());
        this.dispatchEvent(new CustomEvent("confab:ready", { bubbles: true, composed: true }));
      }).catch((err) => {
        slot.textContent = "The chat could not load. Please try again later.";
        this.dispatchEvent(new CustomEvent("confab:error", { bubbles: true, composed: true, detail: { message: String(err) } }));
      });
      return this.mounted;
    }

    open() {
      if (this.mode !== "bubble" || !this.popup.hidden) return this.mountWidget();
      this.popup.hidden = false;
      this.bubble.setAttribute("aria-expanded", "true");
      this.dispatchEvent(new CustomEvent("confab:open", { bubbles: true, composed: true }));
      return this.mountWidget().then(() => this.shadowRoot.querySelector("textarea")?.focus());
    }

    close() {
      if (this.mode !== "bubble" || this.popup.hidden) return;
      this.popup.hidden = true;
      this.bubble.setAttribute("aria-expanded", "false");
      this.bubble.focus();
      this.dispatchEvent(new CustomEvent("confab:close", { bubbles: true, composed: true }));
    }

    toggle() { return this.popup.hidden ? this.open() : this.close(); }

    /** Types `text` into the widget and sends it, as a user would. */
    send(text) {
      return this.open().then(() => {
        const box = this.shadowRoot.querySelector("textarea.cf-input");
        if (!box) return;
        box.value = String(text);
        box.dispatchEvent(new Event("input", { bubbles: true }));
        this.shadowRoot.querySelector("button.cf-send")?.click();
      });
    }
  }

  if (!customElements.get("confab-chat")) customElements.define("confab-chat", ConfabChat);

  // The one-line embed: a bubble configured by this script tag's data-* attributes.
  if (script && script.dataset.endpoint !== undefined || script && script.hasAttribute("data-bubble")) {
    const el = document.createElement("confab-chat");
    el.setAttribute("data-mode", "bubble");
    for (const name of ATTRS) {
      const v = script.getAttribute("data-" + name);
      if (v !== null) el.setAttribute("data-" + name, v);
    }
    const attach = () => document.body.append(el);
    if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
    const api = {
      open: () => el.open(), close: () => el.close(), toggle: () => el.toggle(),
      send: (text) => el.send(text), element: el,
      setConfig: (cfg) => { el.extraConfig = Object.assign({}, el.extraConfig, cfg); },
    };
    if (window.Confab === undefined) {
      window.Confab = api;
    } else {
      // The page already uses the name: keep theirs, expose ours on the element only.
      console.warn("Confab: window.Confab is already taken; use document.querySelector('confab-chat') instead.");
    }
    el.api = api;
  }
})();
