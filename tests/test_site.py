"""The course as a website: it builds offline from a small subset, and loads in headless Chromium.

The subset: lesson 00 (executed) and a one-cell lesson that draws a figure, with course/README.md.
The figure notebook also appends a line to a file each time it is executed, which is how the test
sees the execution cache at work. In the browser every request that leaves the site is blocked and
recorded: the site must not need the network. The crawl is proven able to fail on a hand-made page
with a broken image, a broken link and a broken section link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _require(modules: list[str]) -> None:
    """The site's tools, or a skip (a failure under CI=true) naming what is missing."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if "playwright" in modules and not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if missing:
        reason = (
            f"the site test needs {', '.join(missing)} (pip install -e '.[site]'; apt-get install chromium)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must not be skipped)")
        pytest.skip(reason)


def _figure_notebook(counter: Path, colour: str) -> nbformat.NotebookNode:
    code = (
        f"with open({str(counter)!r}, 'a') as seen:\n"
        "    seen.write('executed\\n')\n"
        "import matplotlib.pyplot as plt\n"
        "from mesalib.drawing.plots import OKABE_ITO\n"
        f"plt.bar(['TRAIN', 'TEST'], [0.95, 0.35], color={colour})\n"
        "plt.title('Chests opened')\n"
        "plt.show()"
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "# A figure\nOne bar chart; the share of chests is $p \\approx 0.95$ on TRAIN."
            ),
            nbformat.v4.new_code_cell(code),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the subset three times: once, again unchanged (cached), once with a changed cell."""
    _require(["sphinx", "myst_nb"])
    from mesalib.teaching.site import build_site

    tmp = tmp_path_factory.mktemp("site")
    solutions, exercises, counter = tmp / "solutions", tmp / "exercises", tmp / "executions.txt"
    solutions.mkdir()
    exercises.mkdir()
    shutil.copy2(ROOT / "solutions" / "00_welcome.ipynb", solutions)
    shutil.copy2(ROOT / "lessons" / "00_welcome.ipynb", exercises)
    for folder in (solutions, exercises):
        nbformat.write(_figure_notebook(counter, "OKABE_ITO['orange']"), folder / "01_figure.ipynb")

    def build() -> Path:
        return build_site(
            tmp / "out",
            solutions=solutions,
            exercises=exercises,
            course=ROOT / "course",
            course_pages=["README.md"],
        )

    index = build()
    runs = [counter.read_text().count("executed")]
    build()
    runs.append(counter.read_text().count("executed"))
    nbformat.write(_figure_notebook(counter, "OKABE_ITO['sky_blue']"), solutions / "01_figure.ipynb")
    build()
    runs.append(counter.read_text().count("executed"))
    return index, runs


def test_unchanged_notebooks_are_not_executed_again(site):
    _, runs = site
    assert runs == [1, 1, 2]


def test_lesson_pages_hold_their_outputs_and_offer_the_exercise_version(site):
    index, _ = site
    page = (index.parent / "lessons" / "00_welcome.html").read_text()
    assert "all 25 cases pass" in page  # the executed check's output
    download = next(p for p in (index.parent / "_downloads").rglob("00_welcome.ipynb"))
    exercise = nbformat.read(download, as_version=4)
    assert any("NotImplementedError" in c.source for c in exercise.cells)
    assert not any("### BEGIN SOLUTION" in c.source for c in exercise.cells)


def _crawl(start: Path) -> dict:
    """Visit every page reachable from `start` by internal links in headless Chromium; return the
    pages, and the broken images, links and section links and the requests that left the site."""
    from playwright.sync_api import sync_playwright

    found = {"pages": [], "broken_images": [], "broken_links": [], "outside": [], "errors": [], "images": 0}
    queue, seen = [start.resolve()], set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: found["errors"].append(str(exc)))

            def block(route):
                found["outside"].append(route.request.url)
                route.abort()

            page.route(lambda url: not url.startswith("file://"), block)
            while queue:
                path = queue.pop()
                if path in seen:
                    continue
                seen.add(path)
                page.goto(path.as_uri(), wait_until="load", timeout=30_000)
                found["pages"].append(path.name)
                widths = page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.getAttribute('src'), e.complete ? e.naturalWidth : 0])"
                )
                found["images"] += len(widths)
                found["broken_images"] += [f"{path.name}: {src}" for src, width in widths if width == 0]
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                    url = urlparse(href)
                    if url.scheme != "file":
                        continue
                    target = Path(unquote(url.path))
                    if not target.exists():
                        found["broken_links"].append(f"{path.name} -> {href}")
                    elif url.fragment and target.suffix == ".html":
                        ids = _ids(page, target, path)
                        if url.fragment not in ids:
                            found["broken_links"].append(f"{path.name} -> {href} (no such section)")
                    if target.suffix == ".html" and target.exists():
                        queue.append(target.resolve())
        finally:
            browser.close()
    return found


_ID_CACHE: dict[Path, set[str]] = {}


def _ids(page, target: Path, current: Path) -> set[str]:
    """The element ids of `target` (read from the live page when it is the current one)."""
    if target.resolve() == current.resolve():
        return set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
    if target not in _ID_CACHE:
        import re

        _ID_CACHE[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text(errors="replace")))
    return _ID_CACHE[target]


def test_every_page_loads_with_its_figures_and_no_broken_link_offline(site):
    _require(["playwright"])
    index, _ = site
    found = _crawl(index)
    assert {"index.html", "00_welcome.html", "01_figure.html", "README.html"} <= set(found["pages"])
    assert found["images"] >= 1  # the figure lesson's chart
    assert found["broken_images"] == []
    assert found["broken_links"] == []
    assert found["outside"] == [], "the site fetched from the network"
    assert found["errors"] == []


def test_the_crawl_reports_what_is_broken(tmp_path):
    _require(["playwright"])
    (tmp_path / "index.html").write_text(
        '<html><body><img src="missing.png"><a href="gone.html">gone</a>'
        '<a href="other.html#nowhere">section</a><img src="https://example.org/x.png"></body></html>'
    )
    (tmp_path / "other.html").write_text('<html><body><h1 id="here">Other</h1></body></html>')
    found = _crawl(tmp_path / "index.html")
    assert len(found["broken_images"]) == 2
    assert [link.split(" -> ")[1].rsplit("/", 1)[1] for link in found["broken_links"]] == [
        "gone.html",
        "other.html#nowhere (no such section)",
    ]
    assert found["outside"] == ["https://example.org/x.png"]
