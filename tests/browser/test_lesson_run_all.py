"""Run All on an unfinished lesson, as a learner meets it: the cells after an exercise still run.

Starts the course the way `make course` does (`mesalib lab`, on a copy of the course, free 127.0.0.1
port, the printed address with its token), opens the *exercise* version of lesson 02 (every stub
unfinished) in headless Chromium and checks, in order:
- right after opening, the notebook is not marked modified and no Jupyter news prompt shows;
- after Run All, every code cell ran (an execution count on each), the distance heat map after
  exercise 2.1 is drawn, the compare widget near the end rendered its picture;
- no cell shows an error or a traceback, and each check cell says its exercise is not done yet.
Screenshots go to `test-artifacts/browser/`. See test_jupyterlab.py for the pitfalls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS
from course_server import CourseServer, copy_course
from test_jupyterlab import ARTIFACTS, KERNEL_IDLE, RUN_ALL, TIMEOUT_MS, _require_browser

from mesalib.teaching.checks import all_exercises

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = "lessons/02_heuristics.ipynb"
RUN_ALL_TIMEOUT_MS = 420_000  # lesson 02 plays 6 policies on 2 x 500 levels; slow on a busy 2-core machine

# JavaScript run in the page; none of it awaits a JupyterLab command.
KERNEL_INFO_APPLIED = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const info = panel && panel.model && panel.model.getMetadata('language_info');
    return !!info && !!info.version;
}"""
DIRTY = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    return {model: panel.model.dirty, tab: document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty').length};
}"""
ALL_RAN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const code = panel.content.widgets.filter(cell => cell.model.type === 'code');
    return !!kernel && kernel.status === 'idle' && code.every(cell => cell.model.executionCount !== null);
}"""
BOARD_DRAWN = """() => {
    const img = document.querySelector('.mesalib-compare img.mesalib-board');
    return !!img && !!img.getAttribute('src') && img.naturalWidth > 0;
}"""
CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')
    .map(cell => ({
        source: cell.model.sharedModel.getSource(),
        check: (cell.model.getMetadata('mesalib') || {}).check || null,
        count: cell.model.executionCount,
        outputs: cell.model.outputs.toJSON(),
    }))"""


def _text(outputs: list[dict]) -> str:
    """Everything a list of outputs shows as text (streams, plain-text results, error tracebacks)."""
    parts = []
    for out in outputs:
        parts.append("".join(out.get("text", "")))
        parts.append("".join(out.get("data", {}).get("text/plain", "")))
        parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


def _news_prompts(page) -> int:
    return page.get_by_text("official Jupyter news").count()


def _assert_every_cell_ran_without_errors(cells: list[dict]) -> None:
    assert [c["source"][:60] for c in cells if c["count"] is None] == [], "code cells that never ran"
    errors = [c["source"][:60] for c in cells if any(o["output_type"] == "error" for o in c["outputs"])]
    assert errors == [], f"cells with an error output: {errors}"
    tracebacks = [c["source"][:60] for c in cells if "Traceback" in _text(c["outputs"])]
    assert tracebacks == [], f"cells showing a traceback: {tracebacks}"
    checks = [c for c in cells if c["check"]]
    assert len(checks) == len([ex for ex in all_exercises().values() if ex.lesson == "02"])
    for cell in checks:
        assert "not done yet" in _text(cell["outputs"]), (cell["check"], cell["outputs"])
    [heat_map] = [c for c in cells if "def show_distance_map" in c["source"]]
    assert any("image/png" in out.get("data", {}) for out in heat_map["outputs"]), heat_map["outputs"]


STATUS_AT_START = (
    "() => [...document.querySelectorAll('.mesalib-compare .mesalib-status')]"
    ".some(e => e.innerText.includes('step 0 /'))"
)


def _assert_compare_widget_rendered(page) -> None:
    compare = page.locator(".mesalib-compare")
    compare.scroll_into_view_if_needed()
    page.wait_for_function(BOARD_DRAWN, polling=250)
    assert compare.locator("img.mesalib-board").is_visible()
    # The status line is written by the kernel's reply, which may land just after the board is drawn.
    page.wait_for_function(STATUS_AT_START, polling=250, timeout=TIMEOUT_MS)
    assert "step 0 /" in compare.locator(".mesalib-status").inner_text()


def _lab_config(home: Path) -> None:
    """Test-only server setting: window.jupyterapp, to read the notebook's model from the page."""
    (home / "config").mkdir(parents=True)
    config = {"LabApp": {"expose_app_in_browser": True}}
    (home / "config" / "jupyter_lab_config.json").write_text(json.dumps(config))


def test_run_all_on_the_unfinished_lesson_02_keeps_going(tmp_path):
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _lab_config(tmp_path / "home")
    server = CourseServer(copy_course(tmp_path / "course"), tmp_path / "home", notebook=LESSON)
    page = None
    try:
        url = server.wait_for_url()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(60_000)
                page.goto(url, wait_until="domcontentloaded")
                page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
                page.wait_for_function(KERNEL_IDLE, polling=250)
                page.wait_for_function(KERNEL_INFO_APPLIED, polling=250)  # JupyterLab wrote its metadata
                page.wait_for_timeout(1_000)
                assert page.evaluate(DIRTY) == {"model": False, "tab": 0}, "opened marked as modified"
                assert _news_prompts(page) == 0
                page.screenshot(path=str(ARTIFACTS / "lesson02_opened.png"))

                page.evaluate(RUN_ALL)
                page.wait_for_function(ALL_RAN, polling=500, timeout=RUN_ALL_TIMEOUT_MS)
                _assert_every_cell_ran_without_errors(page.evaluate(CELLS))
                _assert_compare_widget_rendered(page)
                page.screenshot(path=str(ARTIFACTS / "lesson02_compare_widget.png"))

                assert page.evaluate(DIRTY)["model"] is True  # running cells does mark it: DIRTY can fail
                assert _news_prompts(page) == 0
            except Exception:
                if page is not None:
                    page.screenshot(path=str(ARTIFACTS / "lesson02_failure.png"), full_page=True)
                raise
            finally:
                browser.close()
    finally:
        server.stop()
        (ARTIFACTS / "lesson02_mesalib_lab.log").write_text(server.text())
