"""``thgeval report``: the self-contained HTML page, checked as text and in a real headless
Chromium (Debian's ``chromium``, driven by Playwright): no console errors, sorting works, a
screenshot of the leaderboard is taken."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess

from urllib.parse import unquote

import numpy as np
import pytest

from thgeval.report.html import make_media, write_report


@pytest.fixture(scope="module")
def evaluated(media, tmp_path_factory):
    """Two GRID clips × three generated variants, evaluated, with lip-sync media for one clip."""
    import cv2

    from thgeval.io import load_clip, write_clip
    from thgeval.report import write_outputs
    from thgeval.run import evaluate

    root = tmp_path_factory.mktemp("html")
    for src in (media / "grid" / "bbaf2n.mpg", media / "grid" / "lbax4n.mpg"):
        c = load_clip(src)
        f = c.frames[:50]
        (root / "gt").mkdir(exist_ok=True)
        write_clip(root / "gt" / f"{src.stem}.mp4", f, c.fps, audio=c.audio[: int(16000 * 2)] if c.audio is not None else None)
        rng = np.random.default_rng(0)
        variants = {"copy": f, "blur": np.stack([cv2.GaussianBlur(x, (0, 0), 2.0) for x in f]),
                    "<noise>": np.clip(f.astype(np.int16) + rng.integers(-20, 21, f.shape), 0, 255).astype(np.uint8)}
        for m, v in variants.items():
            write_clip(root / m / f"{src.stem}.mp4", v, c.fps, crf=23)
    r = evaluate(root / "gt", {m: root / m for m in ("copy", "blur", "<noise>")},
                 metrics=["psnr", "ssim", "ssim@skimage-uniform7", "cpbd"], out=root / "out", workers=1)
    write_outputs(r)
    return root / "out"


@pytest.mark.media
def test_report_is_self_contained(evaluated):
    errors = make_media(evaluated, limit=1, video=True)
    assert errors == [] or all("blur" not in e for e in errors)
    path = write_report(evaluated)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # nothing fetched from the network: no external scripts, styles, fonts or images
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<link" not in page and "@import" not in page
    assert "&lt;noise&gt;" in page and "<noise>" not in page  # names escaped
    assert 'class="best"' in page and "Variant disagreement" in page and "Configuration and versions" in page
    assert page.count("<svg") == 4  # one plot per metric column
    assert "_lipsync.mp4" in page and "_lipsync.png" in page  # per-clip media links
    for link in re.findall(r'href="([^"#][^"]*)"', page):
        assert (path.parent / unquote(html.unescape(link))).is_file(), link


def _chromium() -> str:
    """The system Chromium; the test setup installs Debian's package when it is missing."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    required = os.environ.get("THGEVAL_REQUIRE_MEDIA") == "1"
    if shutil.which("apt-get") and os.geteuid() == 0:
        for cmd in (["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
                    ["sh", "-c", "apt-get update -q && apt-get install -y -q --no-install-recommends chromium"]):
            if subprocess.run(cmd, capture_output=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}).returncode == 0:
                break
        if shutil.which("chromium"):
            return shutil.which("chromium")
    if required:
        pytest.fail("the HTML report's browser test needs Debian's chromium package, which could not be installed")
    pytest.skip("no chromium here (Debian: apt-get install chromium)")


@pytest.mark.media
def test_report_in_headless_chromium(evaluated, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    exe = _chromium()
    path = write_report(evaluated)
    problems = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: problems.append(f"network: {r.url}") if not r.url.startswith(("file:", "data:")) else None)
        page.goto(path.as_uri())
        board = page.locator("table.board").first

        def column(i):
            return [c.get_attribute("data-v") for c in board.locator(f"tbody tr td:nth-child({i})").all()]

        methods = column(1)
        assert sorted(methods) == sorted(["real", "copy", "blur", "<noise>"])
        # PSNR is column 2; real has no PSNR (empty, sorted last either way)
        board.locator("thead th").nth(1).click()
        asc = [float(v) for v in column(2) if v]
        assert asc == sorted(asc) and len(asc) == 3
        board.locator("thead th").nth(1).click()
        desc = [float(v) for v in column(2) if v]
        assert desc == sorted(desc, reverse=True)
        assert column(1)[0] == "copy"  # the copy is closest to GT (highest PSNR)
        # text sort on the method column
        board.locator("thead th").nth(0).click()
        assert column(1) == sorted(methods, key=str.lower)
        # the per-clip filter hides rows
        page.fill("input.filter", "lbax4n")
        visible = page.locator("table.clips tbody tr:visible").count()
        assert 0 < visible < page.locator("table.clips tbody tr").count()
        page.fill("input.filter", "")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert problems == []
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("THGEVAL_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
