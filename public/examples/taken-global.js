// The host page's own `Confab` global, defined before the loader runs.
window.Confab = { mine: true };
