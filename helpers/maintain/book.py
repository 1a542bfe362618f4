"""Both editions as one static website, built offline from the notebooks' stored outputs (nothing is executed).

    python -m helpers.maintain.book            # writes build/site/: index.html (English), zh/index.html (Chinese)

Sphinx + MyST-NB + sphinx-book-theme build each edition from a staging folder (build/book/): the lessons copied
unchanged (their pages offer the original .ipynb for download), the README as the landing page with its links
turned into site links, a contents sidebar in the README's order. While a page is read, links are rewritten
(a lesson, the README and a file of this repository become a page of the site or a link to the repository), the
Colab badge is served from the site, and the Colab set-up cell is collapsed. MathJax comes from a Python package
(jupyter-server-mathjax) and is copied once into build/site/_mathjax/, so the site loads nothing from elsewhere.
Warnings are errors. This module is also the Sphinx extension that does the rewriting (``setup``).
"""

from __future__ import annotations

import argparse
import functools
import json
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
SITE_SCHEME = "site:"  # a link the rewriting has already made relative to the page; the prefix is dropped at the end


@dataclass(frozen=True)
class Edition:
    """One language of the tutorials: where its notebooks and README are, and where its pages go in the site."""

    code: str
    sphinx_language: str
    readme: str
    notebooks: str  # the folder of its notebooks, from the repository's root
    prefix: str  # the folder of its pages in the site ("" or "zh/")
    name: str  # what the language switch says
    lessons_caption: str
    colab_prompt: tuple[str, str]  # the collapsed Colab set-up cell's label: (to show it, to hide it)


EDITIONS = {
    "en": Edition("en", "en", "README.md", "notebooks", "", "English", "Lessons",
                  ("Colab set-up (runs only on Colab): show the code", "Hide the Colab set-up code")),
    "zh": Edition("zh", "zh_CN", "README.zh.md", "notebooks/zh", "zh/", "中文", "课程",
                  ("Colab 设置（只在 Colab 上运行）：显示代码", "隐藏 Colab 设置代码")),
}

BOOK_CSS = """\
/* the language switch, in each page's header beside the theme's buttons */
.header-article-items__end { display: flex; flex-direction: row; align-items: center; gap: 0.25rem; }
.bd-header-article .lang-switch { font-size: 0.95rem; font-weight: 600; white-space: nowrap; }
/* Chinese and emoji from the reader's fonts (Noto CJK, Noto Color Emoji where installed), never from the web */
html[lang^="zh"] body { font-family: system-ui, "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", sans-serif, "Noto Color Emoji"; }
"""

LANG_SWITCH_TEMPLATE = """\
{%- if other_edition_url %}
<a class="btn btn-sm lang-switch" href="{{ other_edition_url }}" hreflang="{{ other_edition_lang }}"
   lang="{{ other_edition_lang }}" title="{{ other_edition_name }}">{{ other_edition_name }}</a>
{%- endif %}
"""

# An "Open in Colab" badge drawn here, so that the page needs nothing from Colab's servers to show it.
COLAB_BADGE_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<title>Open in Colab</title>
<rect width="117" height="20" rx="3" fill="#555"/><rect x="20" width="97" height="20" rx="3" fill="#555"/>
<circle cx="8" cy="10" r="4.2" fill="none" stroke="#F9AB00" stroke-width="2.4"/>
<circle cx="13" cy="10" r="4.2" fill="none" stroke="#E8710A" stroke-width="2.4"/>
<text x="67" y="14" fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"
 text-anchor="middle">Open in Colab</text>
</svg>
"""

# the site's icon: a small depth map, near = warm, far = dark (browsers ask for one; without it they ask for a
# /favicon.ico that is not there)
FAVICON_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<defs><linearGradient id="d" x1="0" y1="1" x2="0" y2="0">
<stop offset="0" stop-color="#fcfdbf"/><stop offset="0.5" stop-color="#de4968"/><stop offset="1" stop-color="#000004"/>
</linearGradient></defs><rect width="32" height="32" rx="6" fill="url(#d)"/>
</svg>
"""

# MathJax 2.7 as jupyter-server-mathjax ships it (the classic notebook's copy): its combined TeX configuration, HTML-CSS
# output with the STIX web fonts it bundles, so that no font or script comes from elsewhere
MATHJAX_CONFIG_FILE = "TeX-AMS-MML_HTMLorMML-full"
MATHJAX2_CONFIG = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": False},
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None,
                 # its blank test font is url('about:blank'), a request Chromium refuses with a console error
                 "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}}},
    "messageStyle": "none",
}


@functools.cache
def repository_url() -> str:
    """The public repository's URL (links to its files that are not pages of the site), as the Colab cells use it."""
    from helpers.maintain.generated_cells import repository_url as from_pyproject

    return from_pyproject(ROOT / "pyproject.toml")


def mathjax_dir() -> Path:
    """MathJax 2's files as shipped by the jupyter-server-mathjax package."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def lessons(edition: Edition) -> list[str]:
    """The edition's notebooks (names without .ipynb) in the README's order, any the README does not list after."""
    folder = ROOT / edition.notebooks
    present = sorted(p.stem for p in folder.glob("[0-9][0-9]_*.ipynb"))
    readme = (ROOT / edition.readme).read_text(encoding="utf-8")
    listed = [name for name in re.findall(rf"\]\({re.escape(edition.notebooks)}/(\d\d_\w+)\.ipynb", readme)
              if name in present]
    ordered = list(dict.fromkeys(listed))
    return ordered + [name for name in present if name not in ordered]


def _split(target: str) -> tuple[str, str]:
    """A link target's path and its '#fragment' ('' when it has none)."""
    path, _, fragment = target.partition("#")
    return path, (f"#{fragment}" if fragment else "")


def site_target(target: str, here: str, edition: Edition) -> str:
    """Where a Markdown link of a file at repository folder ``here`` should point in ``edition``'s pages.

    A lesson or README of this edition: a document of this edition (MyST resolves it). The other edition's:
    a relative URL across (``site:``). Any other file of the repository: its page on the repository's site.
    External URLs and in-page anchors are kept.
    """
    repository = repository_url()
    for prefix in (f"{repository}/blob/main/", f"{repository}/tree/main/"):
        if target.startswith(prefix):
            path = target[len(prefix):]
            break
    else:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#") or not target:
            return target
        path = posixpath.normpath(posixpath.join(here, target.split("#")[0])) + _split(target)[1]
    path, fragment = _split(path)
    for other in EDITIONS.values():
        page = None
        if path == other.readme:
            page = "index"
        elif posixpath.dirname(path) == other.notebooks and path.endswith(".ipynb"):
            page = posixpath.basename(path)[: -len(".ipynb")]
        if page is None:
            continue
        if other is edition:
            return ("index.md" if page == "index" else f"{page}.ipynb") + fragment
        up = "../" if edition.prefix else ""
        return f"{SITE_SCHEME}{up}{other.prefix}{page}.html{fragment}"
    kind = "tree" if (ROOT / path).is_dir() else "blob"
    return f"{repository}/{kind}/main/{path}{fragment}"


LINK = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


def rewrite_markdown(text: str, here: str, edition: Edition) -> str:
    """``text`` with every Markdown link made a site link (``site_target``) and the Colab badge served locally."""
    def one(match: re.Match) -> str:
        if match.group(1).startswith("!") and not re.match(r"^[a-z][a-z0-9+.-]*:", match.group(2)):
            return match.group(0)  # a picture of the repository: staged beside the page (``stage``)
        return match.group(1) + site_target(match.group(2), here, edition) + match.group(3)

    text = text.replace(f"]({COLAB_BADGE_URL})", "](_static/colab-badge.svg)")  # the badge sits inside a link
    return LINK.sub(one, text)


def stage(edition: Edition, src: Path) -> list[str]:
    """Fill ``src`` with what Sphinx reads for ``edition``: the notebooks as they are, the landing page, static files."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "_static").mkdir(parents=True)
    (src / "_templates").mkdir()
    names = lessons(edition)
    for name in names:
        shutil.copy2(ROOT / edition.notebooks / f"{name}.ipynb", src / f"{name}.ipynb")
    readme = (ROOT / edition.readme).read_text(encoding="utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme):
        if "://" not in image and (ROOT / image).is_file():
            (src / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / image, src / image)
    toctree = "\n".join([f"\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n:caption: {edition.lessons_caption}\n", *names,
                         "```\n"])
    (src / "index.md").write_text(rewrite_markdown(readme, "", edition) + toctree, encoding="utf-8")
    (src / "_static" / "book.css").write_text(BOOK_CSS, encoding="utf-8")
    (src / "_static" / "colab-badge.svg").write_text(COLAB_BADGE_SVG, encoding="utf-8")
    (src / "_static" / "favicon.svg").write_text(FAVICON_SVG, encoding="utf-8")
    (src / "_templates" / "lang-switch.html").write_text(LANG_SWITCH_TEMPLATE, encoding="utf-8")
    return names


def sphinx_config(edition: Edition) -> dict:
    """The whole Sphinx configuration of one edition (there is no conf.py)."""
    readme = (ROOT / edition.readme).read_text(encoding="utf-8")
    title = re.search(r"^# (.+)$", readme, re.M).group(1).strip()
    depth = "../" * edition.prefix.count("/")
    return {
        "project": title,
        "html_title": title,
        "language": edition.sphinx_language,
        "root_doc": "index",
        "extensions": ["myst_nb", "helpers.maintain.book"],
        "exclude_patterns": ["**.ipynb_checkpoints"],
        "templates_path": ["_templates"],
        "html_static_path": ["_static"],
        "html_css_files": ["book.css"],
        "html_favicon": "_static/favicon.svg",
        "nb_execution_mode": "off",  # the stored outputs, exactly as committed
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath"],
        "myst_heading_anchors": 3,
        "myst_url_schemes": ["http", "https", "mailto", "ftp", SITE_SCHEME.rstrip(":")],
        "myst_update_mathjax": False,
        # relative to _static/; one copy for both editions
        "mathjax_path": f"../{depth}_mathjax/MathJax.js?config={MATHJAX_CONFIG_FILE}",
        "mathjax2_config": MATHJAX2_CONFIG,
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "repository_url": repository_url(),
            "use_repository_button": True,
            "use_download_button": True,
            "home_page_in_toc": False,  # the title above the contents leads to the landing page
            "show_navbar_depth": 1,
            "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
            "footer_content_items": [],  # no author or copyright line: the README's licences section says it
        },
        "html_copy_source": True,  # the original .ipynb, offered by each page's download button
        "html_sourcelink_suffix": "",
        "html_show_sourcelink": False,
        "html_last_updated_fmt": None,
        "html_context": {"default_mode": "light"},  # the stored figures are drawn on white
        "book_edition": edition.code,
    }


def build(out: Path = SITE, work: Path | None = None, quiet: bool = True) -> Path:
    """Build both editions into ``out`` (English at the top, Chinese in zh/); warnings are errors."""
    import logging

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    try:
        import jieba  # Sphinx's Chinese search splits words with it

        jieba.setLogLevel(logging.WARNING)  # its dictionary loading talks at DEBUG level
    except ImportError:
        pass

    work = work or out.parent / "book"
    shutil.rmtree(out, ignore_errors=True)
    for edition in EDITIONS.values():
        src, html = work / edition.code / "src", work / edition.code / "html"  # MyST-NB writes beside html/
        stage(edition, src)
        shutil.rmtree(html, ignore_errors=True)
        with patch_docutils(src), docutils_namespace():  # each edition registers its own directives and roles
            app = Sphinx(str(src), None, str(html), str(work / edition.code / "doctrees"), "html",
                         confoverrides=sphinx_config(edition), status=None if quiet else sys.stdout,
                         warning=sys.stderr, freshenv=True, warningiserror=True, keep_going=True)
            app.build()
        if app.statuscode:
            raise RuntimeError(f"the {edition.name} edition did not build (see the warnings above)")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(html, out / edition.prefix)
    shutil.copytree(mathjax_dir(), out / "_mathjax")
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and the other folders starting with '_'
    return out


# --- the Sphinx extension: what happens while the pages are read and written ---------------------------------

def _edition(app) -> Edition:
    """The edition this Sphinx build is making."""
    return EDITIONS[app.config.book_edition]


def _on_source_read(app, docname: str, source: list[str]) -> None:
    """Rewrite a lesson's links and badge, and collapse its Colab set-up cell, in the text Sphinx parses.

    The file on disk is untouched: the page's download button offers it as committed.
    """
    edition = _edition(app)
    if docname == "index" or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    for cell in notebook["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "colab-setup" in tags:
            tags.append("hide-input")
            cell["metadata"]["mystnb"] = {"code_prompt_show": edition.colab_prompt[0],
                                          "code_prompt_hide": edition.colab_prompt[1]}
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = rewrite_markdown(text, edition.notebooks, edition)
    source[0] = json.dumps(notebook)


def _on_doctree_resolved(app, doctree, docname: str) -> None:
    """Drop the ``site:`` prefix of links that already point at the right page of the site."""
    from docutils import nodes

    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        if uri.startswith(SITE_SCHEME):
            ref["refuri"] = uri[len(SITE_SCHEME):]
            ref["classes"] = [c for c in ref.get("classes", []) if c != "external"]


def _on_page_context(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Give each page the address of the same page in the other edition (the language switch)."""
    edition = _edition(app)
    other = next(e for e in EDITIONS.values() if e is not edition)
    depth = "../" * pagename.count("/")
    if pagename == "index" or pagename in lessons(other) or pagename in ("search", "genindex"):
        target = pagename
    else:
        target = "index"
    across = f"{other.prefix}" if not edition.prefix else "../"
    context["other_edition_url"] = f"{depth}{across}{target}.html"
    context["other_edition_lang"] = "zh-Hans" if other.code == "zh" else other.code
    context["other_edition_name"] = other.name


def _fix_chinese_search() -> None:
    """Sphinx 9.0 names the Chinese search's JS stemmer ``ChineseStemmer``, which does not exist (its file is the
    English stemmer), so search breaks in the browser; Sphinx 9.1 fixed it (sphinx-doc/sphinx#14416). Until the
    project can use 9.1 (it needs Python 3.12), the Chinese search language names the stemmer it really ships."""
    import sphinx
    from sphinx import search
    from sphinx.search.zh import SearchChinese

    if sphinx.version_info[:2] != (9, 0):
        return

    class SearchChineseEnglishStemmer(SearchChinese):
        language_name = "English"  # only used for the JS class name (EnglishStemmer) and a log label

    search.languages["zh"] = SearchChineseEnglishStemmer


def setup(app) -> dict:
    """Sphinx extension entry point (listed in sphinx_config's extensions)."""
    app.add_config_value("book_edition", "en", "html", types=frozenset({str}))
    app.connect("source-read", _on_source_read)
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("html-page-context", _on_page_context)
    _fix_chinese_search()
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    """Build the site from the command line; prints where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SITE, help="where the site goes (default: build/site)")
    parser.add_argument("--verbose", action="store_true", help="print Sphinx's progress")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = build(args.out.resolve(), quiet=not args.verbose)
    print(f"built {out / 'index.html'} (English) and {out / 'zh' / 'index.html'} (中文) "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
