"""End to end in a real browser: `rag ui` on a small real index, driven by Debian's Chromium via Playwright.

Asks a question, waits for the streamed answer, checks citation badges and the source list, uploads a
file on the Documents page and sees it indexed. Screenshots go to tmp_path, and to docs/screenshots/
when SAVE_SCREENSHOTS=1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import SAMPLE_DIR, load_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SAMPLES = ("diffusion_models.md", "retrieval_augmented_generation.md", "gans.pdf")  # from data/sample
QUESTION = "How does a diffusion model generate an image?"
UPLOAD = ("bees.txt", "Honey bees communicate the direction of flowers with a waggle dance inside the hive.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rag ui exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not come up in {seconds} s")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    from ingest.pipeline import ingest_paths

    root = tmp_path_factory.mktemp("browser")
    docs = root / "docs"
    docs.mkdir()
    for name in SAMPLES:  # a copy: the app may offer these files for download
        shutil.copy(SAMPLE_DIR / name, docs / name)
    index = root / "index"
    report = ingest_paths([docs], load_settings(index_dir=str(index)))
    assert not report.failed, report.summary()
    return index


@contextlib.contextmanager
def running_app(index: Path, log: Path):
    """`rag ui --index INDEX` on a free port until the block ends; its output goes to `log` (never a pipe)."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag", "ui", "--index", str(index), "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        assert f"Open {url} in your browser" in log.read_text()  # `rag ui` prints where to go
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def app_url(small_index):
    with running_app(small_index, small_index.parent / "rag-ui.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (install with scripts/install_chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_for_html(locator, texts: list[str], seconds: float = 20) -> None:
    """Wait until every text is in the element's HTML (the data grid fills its accessible table late)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = locator.inner_html()
        if all(t in html for t in texts):
            return
        time.sleep(0.5)
    raise AssertionError(f"{texts} not in {html[:2000]}")


def save_shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / name)
    return path


@pytest.mark.parametrize("viewport", [(1366, 800), (1920, 1080)], ids=["laptop", "desktop"])
def test_ask_and_see_cited_sources(browser, app_url, tmp_path, viewport):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.goto(app_url, wait_until="domcontentloaded")
    box = page.get_by_placeholder("Ask a question about your documents")
    box.wait_for(timeout=60_000)
    box.fill(QUESTION)
    box.press("Enter")
    answer = page.locator("div.answer").first
    answer.wait_for(timeout=180_000)
    assert page.locator("div.answer span.cite").count() >= 1, answer.inner_text()
    assert "[1]" in answer.inner_text() and "noise" in answer.inner_text()
    page.get_by_text("[1] diffusion_models.md", exact=False).first.wait_for(timeout=10_000)
    assert page.locator("mark").count() >= 1  # the supporting sentence is highlighted
    assert page.get_by_role("button", name="Download diffusion_models.md").count() >= 1
    assert page.get_by_text("Traceback").count() == 0
    page.get_by_text(QUESTION).last.scroll_into_view_if_needed()
    page.mouse.wheel(0, -200)  # show the title row too
    shot = save_shot(page, tmp_path, f"chat-{viewport[0]}x{viewport[1]}.png")
    assert shot.stat().st_size > 10_000
    page.close()


def test_upload_a_file_and_see_it_indexed(browser, app_url, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    page.goto(f"{app_url}/documents", wait_until="domcontentloaded")
    page.get_by_text("Add documents").first.wait_for(timeout=60_000)
    name, text = UPLOAD
    page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Add to index").click()
    page.get_by_text("Added 1 file(s)").wait_for(timeout=120_000)
    page.get_by_text(f"Indexed documents ({len(SAMPLES) + 1} files)").wait_for(timeout=10_000)
    results = page.locator("[data-testid=stDataFrame]").first  # the per-file result of this upload
    wait_for_html(results, [name, "added"])
    save_shot(page, tmp_path, "documents-1366x800.png")
    page.close()


def test_missing_index_shows_the_welcome_page(browser, tmp_path):
    with running_app(tmp_path / "no-index-yet", tmp_path / "rag-ui.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_text("There are no documents in the index yet").wait_for(timeout=60_000)
        page.get_by_role("button", name="Index the sample documents").wait_for(timeout=10_000)
        assert page.locator("input[type=file]").count() == 1
        assert page.get_by_text("Traceback").count() == 0
        save_shot(page, tmp_path, "first-run-1366x800.png")
        page.close()
