"""Debian's Chromium for the real-browser tests, and the flags that keep it quiet and offline
(DESIGN.md, "Real browser": never `playwright install`; no first-run, sync or update traffic)."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
