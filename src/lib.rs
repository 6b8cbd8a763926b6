//! The Confab widget.
