"""The website of both editions (helpers.maintain.book): built once with warnings as errors, then read in Chromium.

The build goes into a temporary folder once per test session. On disk: every notebook has its page in both
editions, each page offers the notebook unchanged for download, and every link inside the site resolves (file and
anchor). In headless Chromium (Debian's package, as tests/test_app_browser.py), served from 127.0.0.1: the landing
page and three lessons per language load with no failed request, no request leaving the site and no console error;
every picture has loaded; the formulas are typeset; the language switch leads to the same lesson; search finds a
word that occurs in one lesson only. Screenshots of lessons 01, 06 and 10 in both languages are saved
(``helpers.build_dir()/book/``, or ``DEPTH_TUTORIALS_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import threading
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

import helpers
from helpers.maintain import book


REQUIRED = os.environ.get("DEPTH_TUTORIALS_REQUIRE_BROWSER") == "1"
try:
    import myst_nb  # noqa: F401
except ImportError:
    if REQUIRED:  # CI (.ci/run) installs the site's packages and requires this test to run
        pytest.fail("the site's packages are missing (pip install -r requirements-book.txt)", pytrace=False)
    pytest.skip("the site's packages are not installed (pip install -r requirements-book.txt)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # the themes' use of Sphinx APIs
SHOWN = ["01_monocular_vs_stereo", "06_depth_to_3d", "10_fine_tuning"]  # the lessons read in the browser
CHROMIUM = next((p for p in (os.environ.get("DEPTH_TUTORIALS_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Both editions, built once for this file; any Sphinx warning fails the build."""
    root = tmp_path_factory.mktemp("book")
    return book.build(root / "site", work=root / "work")


def test_every_notebook_has_a_page_in_its_edition(site):
    for edition in book.EDITIONS.values():
        notebooks = sorted(p.stem for p in (book.ROOT / edition.notebooks).glob("[0-9][0-9]_*.ipynb"))
        assert len(notebooks) >= 13
        assert sorted(book.lessons(edition)) == notebooks
        for name in notebooks:
            assert (site / edition.prefix / f"{name}.html").is_file(), (edition.code, name)
    assert (site / "index.html").is_file() and (site / "zh" / "index.html").is_file()


def test_contents_follow_the_readme_order():
    readme = (book.ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"\(notebooks/(\d\d_\w+)\.ipynb\)", readme)
    assert book.lessons(book.EDITIONS["en"])[: len(listed)] == list(dict.fromkeys(listed))


def test_links_are_rewritten_for_the_site():
    en, zh = book.EDITIONS["en"], book.EDITIONS["zh"]
    repo = book.repository_url()
    assert book.site_target("02_depth_pipeline.ipynb", "notebooks", en) == "02_depth_pipeline.ipynb"
    assert book.site_target("notebooks/zh/02_depth_pipeline.ipynb", "", zh) == "02_depth_pipeline.ipynb"
    assert book.site_target("../README.md#run-times", "notebooks", en) == "index.md#run-times"
    assert book.site_target("../../README.zh.md#运行时间", "notebooks/zh", zh) == "index.md#运行时间"
    assert book.site_target("README.zh.md", "", en) == "site:zh/index.html"
    assert book.site_target("README.md", "", zh) == "site:../index.html"
    assert book.site_target(f"{repo}/blob/main/README.md#the-notebooks", "notebooks", en) == "index.md#the-notebooks"
    assert book.site_target("../helpers/app.py", "notebooks", en) == f"{repo}/blob/main/helpers/app.py"
    assert book.site_target("data/README.md", "", en) == f"{repo}/blob/main/data/README.md"
    assert book.site_target("benchmarks", "", en) == f"{repo}/tree/main/benchmarks"
    assert book.site_target("https://arxiv.org/abs/1", "notebooks", en) == "https://arxiv.org/abs/1"
    assert book.site_target("#exercises", "notebooks", en) == "#exercises"
    badge = f"[![Open In Colab]({book.COLAB_BADGE_URL})](https://colab.research.google.com/github/x)"
    assert book.rewrite_markdown(badge, "notebooks", en) == \
        "[![Open In Colab](_static/colab-badge.svg)](https://colab.research.google.com/github/x)"


def test_download_is_the_notebook_unchanged_and_the_colab_cell_is_collapsed(site):
    for edition in book.EDITIONS.values():
        for name in book.lessons(edition):
            original = (book.ROOT / edition.notebooks / f"{name}.ipynb").read_bytes()
            assert (site / edition.prefix / "_sources" / f"{name}.ipynb").read_bytes() == original
            page = (site / edition.prefix / f"{name}.html").read_text(encoding="utf-8")
            assert f'href="_sources/{name}.ipynb"' in page
            cells = json.loads(original)["cells"]
            if any("colab-setup" in c.get("metadata", {}).get("tags", []) for c in cells):
                setup = re.search(r'<div class="cell tag_colab-setup[^"]*">\s*(<details[^>]*>)', page)
                assert setup and "hide" in setup.group(1) and edition.colab_prompt[0] in page, name


class _Links(html.parser.HTMLParser):
    """The ids and the link targets (href, src) of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.targets.append(attrs[key])


@functools.cache
def _parsed(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_of_every_page_resolves(site):
    pages = sorted(site.rglob("*.html"))
    pages = [p for p in pages if not {"_static", "_mathjax"} & set(p.parts)]  # the themes' template fragments
    assert len(pages) >= 2 * 13 + 2
    broken, checked = [], 0
    for page in pages:
        for target in _parsed(page).targets:
            parts = urllib.parse.urlsplit(target)
            if parts.scheme or target.startswith("//"):
                continue
            path = urllib.parse.unquote(parts.path)
            file = (page.parent / path).resolve() if path else page
            if path.endswith("/"):
                file = file / "index.html"
            checked += 1
            if not file.is_file() or site.resolve() not in file.parents:
                broken.append(f"{page.relative_to(site)} -> {target}")
            elif parts.fragment and file.suffix == ".html":
                if urllib.parse.unquote(parts.fragment) not in _parsed(file).ids:
                    broken.append(f"{page.relative_to(site)} -> {target} (no such anchor)")
    assert checked > 1000
    assert not broken, "\n".join(broken[:30])


def test_the_landing_pages_link_lessons_of_the_site(site):
    for edition in book.EDITIONS.values():
        targets = _parsed(site / edition.prefix / "index.html").targets
        for name in book.lessons(edition):
            assert f"{name}.html" in targets, (edition.code, name)
        assert not [t for t in targets if t.endswith(".ipynb") and "_sources/" not in t]
    assert "zh/index.html" in _parsed(site / "index.html").targets
    assert "../index.html" in _parsed(site / "zh" / "index.html").targets


# --- in the browser ----------------------------------------------------------------------------------------------

def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason}, and DEPTH_TUTORIALS_REQUIRE_BROWSER=1 requires the browser test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def served(site):
    """The site over HTTP on 127.0.0.1, as a web host would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -r requirements.txt)")
    if CHROMIUM is None:
        _missing("no Chromium found (Debian/Ubuntu: apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class _Visit:
    """One page in a fresh tab, with every failed request, request off the site and console error recorded."""

    def __init__(self, browser, base: str):
        self.base, self.problems = base, []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.on("request", lambda r: r.url.startswith(("http:", "https:")) and not r.url.startswith(base)
                     and self.problems.append(f"left the site: {r.url}"))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def open(self, path: str):
        self.page.goto(self.base + path, wait_until="networkidle")
        return self.page


TYPESET = """async () => {
    const mathjax = Boolean(window.MathJax && MathJax.Hub);
    if (mathjax) await new Promise(done => MathJax.Hub.Queue(done));
    const article = document.querySelector("article").cloneNode(true);
    article.querySelectorAll("pre, code, script, style, .MathJax, .MathJax_Display, .MathJax_Preview")
        .forEach(e => e.remove());
    return {mathjax, text: article.textContent, typeset: document.querySelectorAll("span.MathJax").length,
            math: document.querySelectorAll(".math.notranslate").length};
}"""

IMAGES = """async () => {
    const images = [...document.images];
    await Promise.all(images.map(i => i.decode().catch(() => null)));
    return images.map(i => [i.getAttribute("src"), i.naturalWidth]);
}"""


def _shots() -> Path:
    folder = Path(os.environ.get("DEPTH_TUTORIALS_SCREENSHOT_DIR") or helpers.build_dir() / "book")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("code", ["en", "zh"])
def test_landing_and_lessons_load_cleanly_with_pictures_and_typeset_maths(browser, served, code):
    edition = book.EDITIONS[code]
    math_seen = 0
    for name in ["index", *SHOWN]:
        visit = _Visit(browser, served)
        page = visit.open(f"{edition.prefix}{name}.html")
        images = page.evaluate(IMAGES)
        maths = page.evaluate(TYPESET)
        if name in SHOWN:
            page.screenshot(path=str(_shots() / f"{code}_{name[:2]}.png"))
        page.close()
        assert not visit.problems, f"{code}/{name}: " + "\n".join(visit.problems)
        assert images and all(width > 0 for _, width in images), (code, name, images)
        assert maths["mathjax"] or not maths["math"], f"{code}/{name}: formulas, but MathJax did not load"
        assert "$" not in maths["text"] and "\\(" not in maths["text"], (code, name)
        assert maths["typeset"] >= maths["math"], (code, name, maths["typeset"], maths["math"])
        math_seen += maths["math"]
        if name != "index":
            assert len(images) >= 2, f"{code}/{name}: the Colab badge and at least one stored figure"
    assert math_seen > 0


def test_language_switch_leads_to_the_same_lesson(browser, served):
    visit = _Visit(browser, served)
    for start, across in [("06_depth_to_3d.html", "zh/06_depth_to_3d.html"),
                          ("zh/10_fine_tuning.html", "10_fine_tuning.html"),
                          ("index.html", "zh/index.html")]:
        page = visit.open(start)
        page.locator("a.lang-switch").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url == served + across
        assert page.locator("h1").first.inner_text().strip()
    assert not visit.problems, "\n".join(visit.problems)
    visit.page.close()


def _one_lesson_word(edition: book.Edition) -> tuple[str, str]:
    """A word of the lessons' prose that occurs in exactly one lesson (and not on the landing page): (word, lesson)."""
    texts = {}
    for name in book.lessons(edition):
        cells = json.loads((book.ROOT / edition.notebooks / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
        texts[name] = "\n".join("".join(c["source"]) for c in cells)
    readme = (book.ROOT / edition.readme).read_text(encoding="utf-8")
    if edition.code == "zh":
        import jieba

        def words(text):
            return {w for w in jieba.cut_for_search(text) if len(w) >= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", w)}
    else:
        def words(text):
            return {w.lower() for w in re.findall(r"\b[A-Za-z]{9,}\b", text)}
    per_lesson = {name: words(text) for name, text in texts.items()}
    everywhere = Counter(w for ws in per_lesson.values() for w in ws)
    landing = words(readme)
    prose = {name: Counter(w for c in json.loads((book.ROOT / edition.notebooks / f"{name}.ipynb").read_text(
        encoding="utf-8"))["cells"] if c["cell_type"] == "markdown" for w in words("".join(c["source"])))
        for name in texts}
    candidates = sorted((-count, word, name) for name, counter in prose.items() for word, count in counter.items()
                        if everywhere[word] == 1 and word not in landing)
    assert candidates, f"no word occurs in one {edition.name} lesson only"
    _, word, name = candidates[0]
    return word, name


@pytest.mark.parametrize("code", ["en", "zh"])
def test_search_finds_a_word_of_one_lesson(browser, served, code):
    edition = book.EDITIONS[code]
    word, lesson = _one_lesson_word(edition)
    visit = _Visit(browser, served)
    page = visit.open(f"{edition.prefix}search.html?q={urllib.parse.quote(word)}")
    try:
        page.locator("#search-results ul.search li").first.wait_for(timeout=20_000)
    except Exception as error:
        pytest.fail(f"no search result for {word!r} ({lesson}): {error}\n" + "\n".join(visit.problems))
    found = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.getAttribute('href'))")
    page.close()
    assert not visit.problems, "\n".join(visit.problems)
    assert any(href.split("?")[0].split("#")[0] == f"{lesson}.html" for href in found), (word, lesson, found)
