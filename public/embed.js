// Confab embed loader. One line on any page:
//
//   <script async src=".../public/embed.js" data-endpoint="/v1/chat/completions"></script>
//
// draws the chat bubble at once and loads the widget (wasm) on idle time, hover, focus or
// the first click. Also defines <confab-chat> for inline use. Everything renders in a shadow
// root styled by constructed stylesheets, so host CSS cannot reach in and ours cannot leak
// out. Plain JavaScript, no inline code, no eval, no <style> in the page: it runs under
// `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'`.
//
// Theming (set on the confab-chat element, e.g. `confab-chat { --confab-accent: #0a7 }`):
//   --confab-accent, --confab-accent-text, --confab-bg, --confab-text, --confab-font,
//   --confab-font-size, --confab-radius, --confab-bubble-size, --confab-offset, --confab-z,
//   --confab-panel-width, --confab-panel-height, and --confab-accent-dark, --confab-bg-dark,
//   --confab-text-dark for the dark theme.
// Parts: ::part(bubble), ::part(popup), ::part(close), ::part(panel), ::part(header).
// API: Confab.open(), close(), toggle(), send(text), setConfig({...}), clear(); the same
// methods on every <confab-chat> element. Events (bubbling, composed) on the element:
// confab:ready, confab:open, confab:close, confab:message, confab:error.
(() => {
  "use strict";
  // `cargo xtask dist` replaces the next line in the versioned copy: file names and SRI hashes.
  const RELEASE = null;
  const script = document.currentScript || document.querySelector("script[src*='embed'][data-endpoint]");
  const base = new URL(RELEASE ? "./" : "../", script ? script.src : location.href);
  const FILES = RELEASE || { js: "confab.js", wasm: "confab_bg.wasm", css: "confab.css" };
  // Settings for the widget itself (the wasm side checks them and warns in plain words).
  const WIDGET_KEYS = ["endpoint", "model", "title", "welcome", "lang", "theme", "position", "accent",
    "system-prompt", "max-images", "image-hosts", "storage-key"];
  // Settings of the loader only.
  const LOADER_KEYS = ["mode", "preload", "bubble", "from-query"];
  const REMOUNT_KEYS = ["title", "welcome", "lang", "storage-key"];
  const EVENT = (type, detail) => new CustomEvent(type, { bubbles: true, composed: true, detail });
  const warned = new Set();
  const warn = (text) => { if (!warned.has(text)) { warned.add(text); console.warn("Confab: " + text); } };

  let modPromise = null;
  let cssPromise = null;

  /** Fetches one of our files; in a release, checked against its SRI hash. */
  function get(name) {
    const init = RELEASE ? { integrity: RELEASE[name + "I"] } : {};
    return fetch(new URL(FILES[name], base), init).then((r) => (r.ok ? r : Promise.reject(new Error(FILES[name] + ": HTTP " + r.status))));
  }

  /** The widget module, loaded and started once per page; every widget shares it. */
  function loadWidget() {
    if (!modPromise) {
      modPromise = (async () => {
        // A release checks the glue's hash first; the import below then comes from the cache.
        if (RELEASE) await get("js");
        const mod = await import(new URL(FILES.js, base).href);
        await mod.default({ module_or_path: get("wasm") });
        return mod;
      })();
      modPromise.catch((err) => console.error("Confab: the widget could not load.", err));
    }
    return modPromise;
  }

  /** The widget's CSS as a constructed sheet: applies under `style-src 'self'`. */
  function loadCss() {
    if (!cssPromise) {
      cssPromise = get("css").then((r) => r.text()).then((text) => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(text);
        return sheet;
      });
    }
    return cssPromise;
  }

  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif';
  const DARK = "--cf-accent: var(--confab-accent-dark, var(--confab-accent, #5b8def)); --cf-bg: var(--confab-bg-dark, #16181d); --cf-text: var(--confab-text-dark, #e6e8eb);";
  // The loader's own styles: the host element, bubble, popup and the public theming hooks.
  // `!important` on :host is what beats host rules such as `* { all: unset }`.
  const LOADER_CSS = `
:host { display: block !important; position: relative; box-sizing: border-box; }
:host([data-mode="bubble"]) { position: fixed !important; z-index: var(--confab-z, 2147483000) !important;
  inset: auto var(--confab-offset, 20px) var(--confab-offset, 20px) auto !important;
  width: 0 !important; height: 0 !important; margin: 0 !important; padding: 0 !important; border: 0 !important;
  visibility: visible !important; opacity: 1 !important; transform: none !important; overflow: visible !important; }
:host([data-mode="bubble"][confab-side="left"]) { inset: auto auto var(--confab-offset, 20px) var(--confab-offset, 20px) !important; }
:host([data-mode="inline"]) { width: 100%; height: 100%; min-height: 320px; }
.cf-frame { all: initial; display: block; height: 100%; box-sizing: border-box; font: 15px/1.5 ${FONT};
  color: #1a1c20; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
.cf-frame *, .cf-frame *::before, .cf-frame *::after { box-sizing: border-box; }
.cf-bubble { all: initial; position: absolute; bottom: 0; right: 0; box-sizing: border-box;
  width: var(--confab-bubble-size, 56px); height: var(--confab-bubble-size, 56px); border-radius: 50%;
  background: var(--confab-accent, #2563eb); color: var(--confab-accent-text, #fff); cursor: pointer;
  box-shadow: 0 4px 16px rgb(0 0 0 / 0.25); display: grid; place-items: center; transition: transform 0.15s; }
.cf-bubble:hover { transform: scale(1.06); }
.cf-bubble:focus-visible, .cf-close:focus-visible { outline: 3px solid var(--confab-accent, #2563eb); outline-offset: 3px; }
.cf-bubble svg { width: 45%; height: 45%; fill: currentColor; }
.cf-frame[data-side="left"] .cf-bubble, .cf-frame[data-side="left"] .cf-popup { right: auto; left: 0; }
.cf-popup { position: absolute; right: 0; bottom: calc(var(--confab-bubble-size, 56px) + 12px);
  width: min(var(--confab-panel-width, 400px), calc(100vw - 2 * var(--confab-offset, 20px)));
  height: min(var(--confab-panel-height, 620px), calc(100vh - var(--confab-bubble-size, 56px) - 3 * var(--confab-offset, 20px)));
  border-radius: var(--confab-radius, 12px); overflow: hidden; background: var(--confab-bg, #fff);
  box-shadow: 0 10px 40px rgb(0 0 0 / 0.28); transition: opacity 0.15s, transform 0.15s; }
.cf-frame:not(.cf-open) .cf-popup { visibility: hidden; opacity: 0; transform: translateY(8px); pointer-events: none; }
.cf-close { all: initial; position: absolute; z-index: 1; top: 6px; right: 6px; width: 32px; height: 32px;
  border-radius: 8px; display: grid; place-items: center; cursor: pointer; color: inherit; opacity: 0.7; }
.cf-close:hover { opacity: 1; background: rgb(127 127 127 / 0.15); }
.cf-close svg { width: 18px; height: 18px; fill: currentColor; }
.cf-popup .cf-header { padding-right: 48px; }
.cf-mount { height: 100%; }
.cf-inline { height: 100%; min-height: 320px; border-radius: var(--confab-radius, 12px); overflow: hidden; }
:host([data-from-query]) .cf-inline { border-radius: 0; }
.cf-loading { padding: 16px 48px 16px 16px; color: #5d6470; }
.cf-frame[data-theme="dark"] .cf-popup, .cf-frame[data-theme="dark"] .cf-inline { background: var(--confab-bg-dark, #16181d); color: #e6e8eb; }
:host .cf-root { --cf-accent: var(--confab-accent, #2563eb); --cf-accent-text: var(--confab-accent-text, #fff);
  --cf-bg: var(--confab-bg, #fff); --cf-text: var(--confab-text, #1a1c20); --cf-font: var(--confab-font, ${FONT});
  --cf-font-size: var(--confab-font-size, 15px); --cf-radius: var(--confab-radius, 12px); }
:host .cf-root[data-theme="dark"] { ${DARK} }
@media (prefers-color-scheme: dark) {
  :host .cf-root[data-theme="auto"] { ${DARK} }
  .cf-frame[data-theme="auto"] .cf-popup, .cf-frame[data-theme="auto"] .cf-inline { background: var(--confab-bg-dark, #16181d); color: #e6e8eb; }
}
@media (max-width: 600px) {
  .cf-popup { position: fixed; inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
  .cf-frame.cf-open .cf-bubble { display: none; }
}
@media (prefers-reduced-motion: reduce) { .cf-bubble, .cf-popup { transition: none; } }`;

  let loaderSheet = null;
  function sheet() {
    if (!loaderSheet) {
      loaderSheet = new CSSStyleSheet();
      loaderSheet.replaceSync(LOADER_CSS);
    }
    return loaderSheet;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  /** A one-path icon, built with DOM calls (no innerHTML). */
  function icon(d) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }
  const CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
  const CLOSE_ICON = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z";
  const DOWN_ICON = "M5.4 8 12 14.6 18.6 8 20 9.4l-8 8-8-8z";

  function el(tag, className, part) {
    const node = document.createElement(tag);
    node.className = className;
    if (part) node.setAttribute("part", part);
    return node;
  }

  /** `systemPrompt` and `system-prompt` both work in setConfig. */
  const kebab = (key) => key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

  const usedKeys = new Map();
  const phone = () => matchMedia("(max-width: 600px)").matches;

  class ConfabChat extends HTMLElement {
    static get observedAttributes() { return WIDGET_KEYS.map((k) => "data-" + k); }

    connectedCallback() {
      if (this.shadowRoot) return;
      this.overrides = {};
      if (this.hasAttribute("data-from-query")) this.readQuery();
      const root = this.attachShadow({ mode: "open" });
      root.adoptedStyleSheets = [sheet()];
      this.mode = this.getAttribute("data-mode") === "bubble" ? "bubble" : "inline";
      if (!this.hasAttribute("data-mode")) this.setAttribute("data-mode", this.mode);
      this.frame = el("div", "cf-frame", "frame");
      this.slotEl = el("div", "cf-mount");
      if (this.mode === "bubble") {
        this.bubble = el("button", "cf-bubble", "bubble");
        this.bubble.type = "button";
        this.bubble.setAttribute("aria-expanded", "false");
        this.bubble.append(icon(CHAT_ICON));
        this.bubble.addEventListener("click", () => this.toggle());
        const warm = () => this.warm();
        this.bubble.addEventListener("pointerenter", warm, { once: true });
        this.bubble.addEventListener("focus", warm, { once: true });
        this.popup = el("div", "cf-popup", "popup");
        this.popup.setAttribute("role", "dialog");
        this.popup.inert = true;
        const close = el("button", "cf-close", "close");
        close.type = "button";
        close.append(icon(CLOSE_ICON));
        close.addEventListener("click", () => this.close());
        this.closeButton = close;
        this.popup.append(close, this.slotEl);
        this.popup.addEventListener("keydown", (ev) => {
          // The composer takes Escape first to stop an answer (and prevents the default).
          if (ev.key === "Escape" && !ev.defaultPrevented) this.close();
        });
        this.frame.append(this.popup, this.bubble);
        if (this.cfg().preload !== "interaction") {
          const idle = () => (window.requestIdleCallback ? requestIdleCallback(warm, { timeout: 5000 }) : setTimeout(warm, 2000));
          if (document.readyState === "complete") idle(); else addEventListener("load", idle, { once: true });
        }
      } else {
        this.popup = el("div", "cf-inline", "popup");
        this.popup.append(this.slotEl);
        this.frame.append(this.popup);
        this.warm();
      }
      root.append(this.frame);
      this.applyLook();
      const key = this.cfg()["storage-key"];
      if (usedKeys.has(key) && usedKeys.get(key) !== this) {
        warn(`two widgets on this page share the storage key "${key}", so they share one conversation; give each its own data-storage-key.`);
      }
      usedKeys.set(key, this);
    }

    /** For the iframe page: settings from the page's query string. */
    readQuery() {
      const params = new URLSearchParams(location.search);
      for (const key of WIDGET_KEYS) if (params.has(key)) this.setAttribute("data-" + key, params.get(key));
      for (const node of [document.documentElement, document.body]) {
        node.style.setProperty("height", "100%");
        node.style.setProperty("margin", "0");
      }
    }

    attributeChangedCallback(name, old, value) {
      if (old === value || !this.shadowRoot) return;
      // The attribute is now the latest word on this setting.
      delete this.overrides[name.slice(5)];
      this.update({ [name.slice(5)]: value ?? "" }, false);
    }

    /** The configuration: attributes, then anything set by setConfig. */
    cfg() {
      const out = {};
      for (const attr of this.getAttributeNames()) {
        if (!attr.startsWith("data-")) continue;
        const key = attr.slice(5);
        if (!LOADER_KEYS.includes(key)) out[key] = this.getAttribute(attr);
      }
      Object.assign(out, this.overrides);
      if (!out["storage-key"]) out["storage-key"] = this.id || "default";
      if (out.preload === undefined) out.preload = this.getAttribute("data-preload") || "idle";
      return out;
    }

    /** What the wasm side gets: every setting except the loader's own. */
    widgetConfig() {
      const out = this.cfg();
      delete out.preload;
      return out;
    }

    /** Theme, accent, side and labels: applied live, no remount. */
    applyLook() {
      const c = this.cfg();
      const theme = ["light", "dark", "auto"].includes(c.theme) ? c.theme : "auto";
      this.frame.dataset.theme = theme;
      const side = c.position === "bottom-left" ? "left" : "right";
      this.frame.dataset.side = side;
      if (this.mode === "bubble") this.setAttribute("confab-side", side);
      const root = this.shadowRoot.querySelector(".cf-root");
      if (root) root.dataset.theme = theme;
      const accent = c.accent && CSS.supports("color", c.accent) ? c.accent : "";
      for (const node of [this.frame, root]) {
        if (!node) continue;
        if (accent) node.style.setProperty(node === root ? "--cf-accent" : "--confab-accent", accent);
        else node.style.removeProperty(node === root ? "--cf-accent" : "--confab-accent");
      }
      const title = c.title || "Chat";
      if (this.bubble) {
        this.bubble.setAttribute("aria-label", this.isOpen() ? "Close " + title : "Open " + title);
        this.popup.setAttribute("aria-label", title);
        this.closeButton.setAttribute("aria-label", "Close");
      }
    }

    isOpen() { return this.frame ? this.frame.classList.contains("cf-open") : false; }

    /** Loads the code, then mounts the widget (hidden until opened in bubble mode). */
    warm() {
      if (this.mounted) return this.mounted;
      const loading = el("div", "cf-loading");
      loading.textContent = "Loading…";
      this.slotEl.append(loading);
      this.mounted = Promise.all([loadWidget(), loadCss()]).then(([mod, css]) => {
        this.shadowRoot.adoptedStyleSheets = [css, sheet()];
        this.mod = mod;
        loading.remove();
        this.widget = mod.mount(this.slotEl, this.widgetConfig());
        this.applyLook();
        this.dispatchEvent(EVENT("confab:ready", { conversationId: this.widget.conversationId() }));
      }).catch((err) => {
        loading.textContent = "The chat could not load. Please try again later.";
        this.mounted = null;
        const detail = { message: String(err && err.message || err), kind: "load", status: null };
        this.dispatchEvent(EVENT("confab:error", detail));
      });
      return this.mounted;
    }

    /** Applies settings. Theme, accent and position switch at once; endpoint, model and the
     *  like apply to the next request; title, welcome, lang and storage-key remount the panel
     *  (after the answer in progress, if any). */
    update(cfg, fromApi) {
      const changed = {};
      for (const [k, v] of Object.entries(cfg || {})) {
        const key = kebab(k);
        if (!WIDGET_KEYS.includes(key) && !LOADER_KEYS.includes(key)) {
          warn(`unknown setting "${k}" is ignored.`);
          continue;
        }
        changed[key] = v == null ? "" : String(v);
        if (fromApi) this.overrides[key] = changed[key];
      }
      this.applyLook();
      if (!this.widget) return;
      const forWidget = {};
      for (const key of WIDGET_KEYS) if (key in changed) forWidget[key] = changed[key];
      this.widget.setConfig(forWidget);
      if (REMOUNT_KEYS.some((k) => k in changed)) this.remount();
    }

    remount() {
      if (this.widget.busy()) {
        const later = () => { this.removeEventListener("confab:message", later); this.removeEventListener("confab:error", later); this.remount(); };
        this.addEventListener("confab:message", later);
        this.addEventListener("confab:error", later);
        return;
      }
      this.widget.free();
      this.slotEl.replaceChildren();
      this.widget = this.mod.mount(this.slotEl, this.widgetConfig());
      this.applyLook();
    }

    open() {
      if (this.mode === "bubble" && !this.isOpen()) {
        this.frame.classList.add("cf-open");
        this.popup.inert = false;
        this.bubble.setAttribute("aria-expanded", "true");
        this.bubble.replaceChildren(icon(DOWN_ICON));
        this.applyLook();
        if (phone()) this.lockScroll(true);
        this.dispatchEvent(EVENT("confab:open"));
      }
      return this.warm().then(() => {
        if (this.mode === "bubble" && this.isOpen()) this.shadowRoot.querySelector("textarea")?.focus({ preventScroll: true });
      });
    }

    close() {
      if (this.mode !== "bubble" || !this.isOpen()) return;
      const hadFocus = this.shadowRoot.activeElement;
      this.frame.classList.remove("cf-open");
      this.popup.inert = true;
      this.bubble.setAttribute("aria-expanded", "false");
      this.bubble.replaceChildren(icon(CHAT_ICON));
      this.applyLook();
      this.lockScroll(false);
      if (hadFocus) this.bubble.focus({ preventScroll: true });
      this.dispatchEvent(EVENT("confab:close"));
    }

    /** Only while the full-screen phone panel is open: the page behind must not scroll. */
    lockScroll(on) {
      const html = document.documentElement;
      if (on && !this.saved) {
        this.saved = { attr: html.getAttribute("style"), value: html.style.getPropertyValue("overflow"), prio: html.style.getPropertyPriority("overflow") };
        html.style.setProperty("overflow", "hidden", "important");
      } else if (!on && this.saved) {
        if (this.saved.value) html.style.setProperty("overflow", this.saved.value, this.saved.prio);
        else html.style.removeProperty("overflow");
        if (this.saved.attr === null && !html.style.length) html.removeAttribute("style");
        this.saved = null;
      }
    }

    disconnectedCallback() { this.lockScroll(false); }

    toggle() { return this.isOpen() ? Promise.resolve(this.close()) : this.open(); }

    /** Sends `text` as the user would; resolves to false while an answer is still running. */
    send(text) { return this.open().then(() => !!this.widget && this.widget.send(String(text))); }

    setConfig(cfg) { this.update(cfg, true); }

    /** A new, empty conversation (the previous one stays in the browser's storage). */
    clear() { return this.warm().then(() => this.widget && this.widget.clear()); }
  }

  if (!customElements.get("confab-chat")) customElements.define("confab-chat", ConfabChat);

  // The one-line embed: a bubble configured by this script tag's data-* attributes.
  if (script && script.hasAttribute("data-endpoint")) {
    const chat = document.createElement("confab-chat");
    for (const attr of script.getAttributeNames()) {
      if (attr.startsWith("data-")) chat.setAttribute(attr, script.getAttribute(attr));
    }
    chat.setAttribute("data-mode", "bubble");
    const attach = () => document.body.append(chat);
    if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
    const api = {
      open: () => chat.open(), close: () => chat.close(), toggle: () => chat.toggle(),
      send: (text) => chat.send(text), setConfig: (cfg) => chat.setConfig(cfg), clear: () => chat.clear(),
      element: chat,
    };
    Object.defineProperty(api, "isConfab", { value: true });
    if (window.Confab === undefined) {
      window.Confab = api;
    } else if (!window.Confab || !window.Confab.isConfab) {
      // The page already uses the name: theirs stays, ours is on the element only.
      warn("window.Confab is taken by the page; use document.querySelector('confab-chat').open() and the like instead.");
    }
  }
})();
