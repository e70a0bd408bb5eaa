"""The `play` widget as a learner meets it: JupyterLab in a real (headless) browser.

Starts a fresh JupyterLab on 127.0.0.1 (free port, no token) in a temporary folder holding a copy of
`play_widget.ipynb`, opens it in Debian's Chromium through playwright, runs all cells, clicks the
widget's RIGHT and DOWN buttons and types into its keyboard box, and checks that the board image and
the status text change. Screenshots go to `test-artifacts/browser/`. The server is stopped by its PID.

Pitfalls (found while building this test): never `playwright install` (Chromium comes from apt), never await
`commands.execute` inside `page.evaluate` (it has no timeout: start it, then wait on the page).
Skipped when Chromium or playwright is missing, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS
from course_server import isolated_jupyter_env

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 45_000


def _require_browser():
    """playwright's sync API, or a skip (a failure under CI=true) saying what is missing."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the Python package playwright (pip install playwright; never `playwright install`)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must not be skipped)")
        pytest.skip(reason)
    return sync_playwright


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
        return json.loads(body) if body else None


class Lab:
    """A JupyterLab server in `root`, bound to 127.0.0.1, no token, its own config and runtime dirs."""

    def __init__(self, root: Path, home: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyterlab.log"
        env = isolated_jupyter_env(home)
        env["MPLBACKEND"] = "Agg"
        # No "get notified about Jupyter news?" toast over the screenshots.
        news = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",
        ]  # window.jupyterapp, to run commands from the page
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                _get(f"{self.url}/api/status")
                return
            except OSError:
                time.sleep(0.3)
        log = self.log_path.read_text()[-3000:]
        raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f}s:\n{log}")

    def stop(self) -> None:
        """Stop the server by its PID: SIGTERM makes it shut its kernels down first."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()


# JavaScript run in the page. None of it awaits a JupyterLab command.
KERNEL_IDLE = """() => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
RUN_ALL = """() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return true; }"""
SRC_CHANGED = """(old) => {
    const img = document.querySelector('img.mesalib-board');
    return !!img && !!img.getAttribute('src') && img.getAttribute('src') !== old;
}"""
STATUS_HAS = """(text) => {
    const el = document.querySelector('.mesalib-status');
    return !!el && el.innerText.includes(text);
}"""


def test_play_widget_in_jupyterlab(tmp_path):
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(HERE / "play_widget.ipynb", root / "play_widget.ipynb")
    lab = Lab(root, tmp_path / "home")
    page = None
    try:
        lab.wait_ready()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(f"{lab.url}/lab/tree/play_widget.ipynb", wait_until="domcontentloaded")
                page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
                page.wait_for_function(KERNEL_IDLE, polling=250)
                page.evaluate(RUN_ALL)

                board = page.wait_for_selector("img.mesalib-board", state="visible")
                page.wait_for_function(SRC_CHANGED, arg="", polling=100)
                page.wait_for_function(STATUS_HAS, arg="step 0 / 20", polling=100)
                status = page.locator(".mesalib-status")
                assert "keys held 0" in status.inner_text()
                page.screenshot(path=str(ARTIFACTS / "01_loaded.png"), full_page=True)

                for n, (button, shot) in enumerate(
                    (("right", "02_after_right.png"), ("down", "03_after_down.png")), start=1
                ):
                    before = board.get_attribute("src")
                    page.locator(f"button.mesalib-{button}").click()
                    page.wait_for_function(SRC_CHANGED, arg=before, polling=100)
                    page.wait_for_function(STATUS_HAS, arg=f"step {n} / 20", polling=100)
                    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)

                # The keyboard box: s, s, a walks down twice and left onto the key at row 7, column 1.
                before = board.get_attribute("src")
                box = page.locator(".mesalib-keyboard input")
                for letter in "ssa":
                    box.press(letter)
                page.wait_for_function(STATUS_HAS, arg="step 5 / 20", polling=100)
                page.wait_for_function(STATUS_HAS, arg="keys held 1", polling=100)
                assert board.get_attribute("src") != before
                assert "keys collected 1" in status.inner_text()
                page.screenshot(path=str(ARTIFACTS / "04_after_keyboard.png"), full_page=True)
                errors = page.locator(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                )
                assert errors.count() == 0, errors.first.inner_text()
            except Exception:
                if page is not None:
                    page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
                raise
            finally:
                browser.close()
    finally:
        lab.stop()
        shutil.copy(lab.log_path, ARTIFACTS / "jupyterlab.log")
