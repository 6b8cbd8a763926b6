// Confab embed loader: plain JS, no inline code or eval (strict CSP), at most 5 KB brotli.
// Attributes, theming, parts, API and events: README.md, section "Embedding".
(() => {
  "use strict";
  // `cargo xtask dist` replaces this line in the versioned copy (file names, SRI hashes).
  const RELEASE = null;
  const script = document.currentScript || document.querySelector("script[src*='embed'][data-endpoint]");
  const base = new URL(RELEASE ? "./" : "../", script ? script.src : location.href);
  // Unversioned: the embed build (the panel without the playground) in dist/widget/.
  const FILES = RELEASE || { js: "widget/confab.js", wasm: "widget/confab_bg.wasm", css: "widget/confab.css",
    mathJs: "widget/confab-math.js", mathWasm: "widget/confab-math_bg.wasm",
    highlightJs: "widget/confab-highlight.js", highlightWasm: "widget/confab-highlight_bg.wasm" };
  const WIDGET_KEYS = ["endpoint", "model", "title", "welcome", "lang", "theme", "position", "accent",
    "system-prompt", "max-images", "image-hosts", "storage-key"];
  const LOADER_KEYS = ["mode", "preload", "from-query"];
  const REMOUNT_KEYS = ["title", "welcome", "lang", "storage-key"];
  const EVENT = (type, detail) => new CustomEvent(type, { bubbles: true, composed: true, detail });
  const warned = new Set();
  const warn = (text) => { if (!warned.has(text)) { warned.add(text); console.warn("Confab: " + text); } };

  let modPromise = null;
  let cssPromise = null;

  const BAD = (name) => new Error(FILES[name] + " did not load" + (RELEASE ? " or failed its integrity check" : ""));

  // A release file without a hash is refused (an empty integrity would check nothing).
  const sri = (name) => RELEASE[name + "I"] || "sha384-none";

  function get(name) {
    return fetch(new URL(FILES[name], base), RELEASE ? { integrity: sri(name) } : {}).then((r) => (r.ok ? r : Promise.reject(BAD(name))), () => Promise.reject(BAD(name)));
  }

  // A module <script integrity> is how a module's bytes are checked without eval (strict
  // CSP allows it); import() of the same URL then returns that checked instance from the
  // module map, and after a failed check it fails too instead of fetching again.
  function importModule(name) {
    const url = new URL(FILES[name], base).href;
    if (!RELEASE) return import(url);
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.type = "module";
      s.crossOrigin = "anonymous";
      s.integrity = sri(name);
      s.src = url;
      s.onload = () => { s.remove(); resolve(import(url)); };
      s.onerror = () => { s.remove(); reject(BAD(name)); };
      // Into a widget's own shadow root: the page's <head> is not ours to touch.
      ([...usedKeys.values()].find((e) => e.isConnected && e.shadowRoot)?.shadowRoot || document.body).append(s);
    });
  }

  function loadWidget() {
    if (!modPromise) {
      modPromise = (async () => {
        const mod = await importModule("js");
        await mod.default({ module_or_path: get("wasm") });
        // Small wasm modules fetched when first needed: "math" with the first formula,
        // "highlight" with the first fenced code block.
        mod.set_module_loader(async (name) => {
          try {
            const lazy = await importModule(name + "Js");
            await lazy.default({ module_or_path: get(name + "Wasm") });
            return lazy;
          } catch (err) { report(err); throw err; }
        });
        return mod;
      })();
      modPromise.catch((err) => { modPromise = null; report(err); });
    }
    return modPromise;
  }

  const report = (err) => console.error("Confab: " + (err && err.message || err));

  function loadCss() {
    if (!cssPromise) {
      cssPromise = get("css").then((r) => r.text()).then((text) => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(text);
        return sheet;
      });
      cssPromise.catch((err) => { cssPromise = null; report(err); });
    }
    return cssPromise;
  }

  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif';
  const DARK = "--cf-accent: var(--confab-accent-dark, var(--confab-accent, #5b8def)); --cf-bg: var(--confab-bg-dark, #16181d); --cf-text: var(--confab-text-dark, #e6e8eb);";
  const DARK_BOX = "background: var(--confab-bg-dark, #16181d); color: #e6e8eb;";
  // `!important` on :host is what beats host rules such as `* { all: unset }`.
  const LOADER_CSS = `
:host { display: block !important; position: relative; box-sizing: border-box;
  --o: var(--confab-offset, 20px); --b: var(--confab-bubble-size, 56px); --a: var(--confab-accent, #2563eb); --r: var(--confab-radius, 12px); }
:host([data-mode="bubble"]) { position: fixed !important; z-index: var(--confab-z, 2147483000) !important;
  inset: auto var(--o) var(--o) auto !important; width: 0 !important; height: 0 !important; margin: 0 !important;
  padding: 0 !important; border: 0 !important; visibility: visible !important; opacity: 1 !important;
  transform: none !important; overflow: visible !important; }
:host([confab-side="left"]) { inset: auto auto var(--o) var(--o) !important; }
:host([data-mode="inline"]) { width: 100%; height: 100%; min-height: 320px; }
.cf-frame { all: initial; display: block; height: 100%; box-sizing: border-box; font: 15px/1.5 ${FONT}; color: #1a1c20; text-size-adjust: 100%; }
.cf-bubble { all: initial; box-sizing: border-box; position: absolute; bottom: 0; right: 0; width: var(--b); height: var(--b); border-radius: 50%;
  background: var(--a); color: var(--confab-accent-text, #fff); cursor: pointer; box-shadow: 0 4px 16px #0004;
  display: grid; place-items: center; transition: transform .15s; }
.cf-bubble:hover { transform: scale(1.06); }
.cf-bubble:focus-visible, .cf-close:focus-visible { outline: 3px solid var(--a); outline-offset: 3px; }
.cf-bubble svg { width: 45%; height: 45%; fill: currentColor; }
[data-side="left"] .cf-bubble, [data-side="left"] .cf-popup { right: auto; left: 0; }
.cf-popup { position: absolute; right: 0; bottom: calc(var(--b) + 12px);
  width: min(var(--confab-panel-width, 400px), calc(100vw - 2 * var(--o)));
  height: min(var(--confab-panel-height, 620px), calc(100vh - var(--b) - 3 * var(--o)));
  border-radius: var(--r); overflow: hidden; background: var(--confab-bg, #fff); box-shadow: 0 10px 40px #0005; transition: opacity .15s, transform .15s; }
.cf-frame:not(.cf-open) .cf-popup { visibility: hidden; opacity: 0; transform: translateY(8px); pointer-events: none; }
.cf-close { all: initial; position: absolute; z-index: 1; top: 6px; right: 6px; width: 32px; height: 32px;
  border-radius: 8px; display: grid; place-items: center; cursor: pointer; color: inherit; opacity: .7; }
.cf-close:hover { opacity: 1; background: #8882; }
.cf-close svg { width: 18px; height: 18px; fill: currentColor; }
.cf-popup .cf-header { padding-right: 48px; }
.cf-mount { height: 100%; }
.cf-inline { height: 100%; min-height: 320px; border-radius: var(--r); overflow: hidden; }
:host([data-from-query]) .cf-inline { border-radius: 0; }
.cf-loading { padding: 16px 48px 16px 16px; color: #5d6470; }
[data-theme="dark"] > div { ${DARK_BOX} }
:host .cf-root { --cf-accent: var(--a); --cf-bg: var(--confab-bg, #fff);
  --cf-text: var(--confab-text, #1a1c20); --cf-font: var(--confab-font, ${FONT}); --cf-font-size: var(--confab-font-size, 15px); --cf-radius: var(--r); }
:host .cf-root[data-theme="dark"] { ${DARK} }
@media (prefers-color-scheme: dark) {
  :host .cf-root[data-theme="auto"] { ${DARK} }
  [data-theme="auto"] > div { ${DARK_BOX} }
}
@media (max-width: 600px) {
  .cf-popup { position: fixed; inset: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
  .cf-open .cf-bubble { display: none; }
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

  function el(tag, className, part) {
    const node = document.createElement(tag);
    node.className = className;
    if (part) node.setAttribute("part", part);
    return node;
  }

  // Keys a link may set on embed.html opened on its own (not framed): looks only.
  const LINK_KEYS = ["endpoint", "lang", "theme", "accent"];
  // The link's endpoint, normalised, when it is this server's own chat endpoint or one the
  // server lists; null for anything else (another path of this origin included).
  function allowedEndpoint(raw) {
    const abs = (u, b) => { try { return new URL(u, b).href; } catch { return null; } };
    const url = abs(raw.trim(), location.href);
    const meta = document.querySelector('meta[name="confab-endpoints"]');
    const list = [abs("../v1/chat/completions", location.href), ...(meta ? meta.content : "").split(/\s+/)];
    return url && list.some((e) => e && abs(e) === url) ? url : null;
  }

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
      const key = this.cfg()["storage-key"];
      if (usedKeys.has(key) && usedKeys.get(key) !== this) {
        warn(`two widgets share the storage key "${key}" (and so one conversation); give each its own data-storage-key.`);
      }
      usedKeys.set(key, this);
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
          if (ev.key === "Escape" && !ev.defaultPrevented) this.close();
        });
        this.frame.append(this.popup, this.bubble);
        if (this.getAttribute("data-preload") !== "interaction") {
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
    }

    // embed.html's settings come from its link, which anyone can write: the endpoint must be
    // this origin's or one the server lists in <meta name="confab-endpoints">, and the keys
    // that steer the answers or load remote content count only inside a frame (the
    // server's frame-ancestors decides who may frame it).
    readQuery() {
      const params = new URLSearchParams(location.search);
      const framed = window.top !== window;
      for (const key of WIDGET_KEYS) {
        if (!params.has(key) || (!framed && !LINK_KEYS.includes(key))) continue;
        let value = params.get(key);
        if (key === "endpoint" && !(value = allowedEndpoint(value))) this.refused = params.get(key);
        else this.setAttribute("data-" + key, value);
      }
      for (const node of [document.documentElement, document.body]) {
        node.style.setProperty("height", "100%");
        node.style.setProperty("margin", "0");
      }
    }

    attributeChangedCallback(name, old, value) {
      if (old === value || !this.shadowRoot) return;
      delete this.overrides[name.slice(5)];
      this.update({ [name.slice(5)]: value ?? "" }, false);
    }

    cfg() {
      const out = {};
      for (const attr of this.getAttributeNames()) if (attr.startsWith("data-")) out[attr.slice(5)] = this.getAttribute(attr);
      Object.assign(out, this.overrides);
      for (const key of LOADER_KEYS) delete out[key];
      out["storage-key"] ||= this.id || "default";
      return out;
    }

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
      for (const [node, prop] of [[this.frame, "--a"], [root, "--cf-accent"]]) {
        if (node) accent ? node.style.setProperty(prop, accent) : node.style.removeProperty(prop);
      }
      const title = c.title || "Chat";
      if (this.bubble) {
        this.bubble.setAttribute("aria-label", (this.isOpen() ? "Close " : "Open ") + title);
        this.popup.setAttribute("aria-label", title);
        this.closeButton.setAttribute("aria-label", "Close");
      }
    }

    isOpen() { return this.frame ? this.frame.classList.contains("cf-open") : false; }

    warm() {
      if (this.mounted) return this.mounted;
      const loading = this.loadingEl || (this.loadingEl = el("div", "cf-loading"));
      if (this.refused) {
        loading.setAttribute("role", "alert");
        loading.textContent = "This link's chat endpoint is not allowed here (" + this.refused.slice(0, 200) + "). Nothing was sent.";
        this.slotEl.append(loading);
        this.dispatchEvent(EVENT("confab:error", { message: loading.textContent, kind: "endpoint_refused", status: null }));
        return (this.mounted = Promise.resolve());
      }
      loading.textContent = "Loading…";
      this.slotEl.append(loading);
      this.mounted = Promise.all([loadWidget(), loadCss()]).then(([mod, css]) => {
        this.shadowRoot.adoptedStyleSheets = [css, sheet()];
        this.mod = mod;
        loading.remove();
        this.loadingEl = null;
        this.widget = mod.mount(this.slotEl, this.cfg());
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
      for (const key of LOADER_KEYS) delete changed[key];
      this.widget.setConfig(changed);
      if (REMOUNT_KEYS.some((k) => k in changed)) this.remount();
    }

    remount() {
      if (this.widget.busy()) {
        if (!this.later) {
          this.later = () => { for (const t of ["confab:message", "confab:error"]) this.removeEventListener(t, this.later); this.later = null; this.remount(); };
          for (const t of ["confab:message", "confab:error"]) this.addEventListener(t, this.later);
        }
        return;
      }
      this.widget.free();
      this.slotEl.replaceChildren();
      this.widget = this.mod.mount(this.slotEl, this.cfg());
      this.applyLook();
    }

    show(on) {
      this.frame.classList.toggle("cf-open", on);
      this.popup.inert = !on;
      this.bubble.setAttribute("aria-expanded", on);
      this.bubble.replaceChildren(icon(on ? CLOSE_ICON : CHAT_ICON));
      this.applyLook();
      this.lockScroll(on && phone());
      this.dispatchEvent(EVENT(on ? "confab:open" : "confab:close"));
    }

    open() {
      if (this.mode === "bubble" && !this.isOpen()) this.show(true);
      return this.warm().then(() => {
        if (this.mode === "bubble" && this.isOpen()) this.shadowRoot.querySelector("textarea")?.focus({ preventScroll: true });
      });
    }

    close() {
      if (this.mode !== "bubble" || !this.isOpen()) return;
      const hadFocus = this.shadowRoot.activeElement;
      this.show(false);
      if (hadFocus) this.bubble.focus({ preventScroll: true });
    }

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

    send(text) { return this.open().then(() => !!this.widget && this.widget.send(String(text))); }

    setConfig(cfg) { this.update(cfg, true); }

    clear() { return this.warm().then(() => this.widget && this.widget.clear()); }
  }

  if (!customElements.get("confab-chat")) customElements.define("confab-chat", ConfabChat);

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
      warn("window.Confab is taken by the page; use the <confab-chat> element's open(), send()… instead.");
    }
  }
})();
