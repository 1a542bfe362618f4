"""Download once, teach offline: every checkpoint and remote image the notebooks use, into the standard caches.

``python -m helpers.classroom.prefetch`` fetches what the registries list (``helpers.registry.CHECKPOINTS`` and the
remote entries of ``helpers.data.DATA``, the same registries the notebooks load from), verifies each one, and
prints what it holds, how big, and where. ``--check`` only reports what is missing and downloads nothing.
Afterwards the notebooks run with ``HF_HUB_OFFLINE=1`` on the real weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Only what ``from_pretrained`` needs: configs, the image processor and the safetensors weights
# (no duplicate pytorch_model.bin, no ONNX/TF/Flax exports, no README images).
ALLOW_PATTERNS = [
    "config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "model-*-of-*.safetensors",
]
FALLBACK_WEIGHTS = ["pytorch_model.bin"]  # fetched only for a repository that has no safetensors


@dataclass(frozen=True)
class Item:
    """One thing to prefetch: a Hub checkpoint or a remote image from the data registry."""

    kind: Literal["checkpoint", "image"]
    name: str  # the Hub id, or the data registry name
    source: str  # the Hub id, or the image URL (from HF_ENDPOINT for the Hub's own files)
    licence: str


@dataclass(frozen=True)
class Result:
    """What the cache holds for one item after a check or a download."""

    item: Item
    state: Literal["cached", "downloaded", "missing", "failed"]
    path: Path | None = None
    size: int = 0  # bytes on disk
    error: str | None = None

    @property
    def ready(self) -> bool:
        """True when the item is in the cache and verified."""
        return self.state in ("cached", "downloaded")


def plan(only: list[str] | None = None) -> list[Item]:
    """Everything the notebooks use that is not bundled, from the two registries (optionally a subset)."""
    from ..registry import CHECKPOINTS
    from ..data import DATA

    named = {name.lower() for name in only or []}
    # entries marked prefetch=False (notebook 13's extra families, several GB) only when named
    items = [Item("checkpoint", hub_id, hub_id, info.licence) for hub_id, info in CHECKPOINTS.items()
             if info.prefetch or hub_id.lower() in named]
    items += [
        Item("image", name, entry.url, entry.licence)
        for name, entry in DATA.items()
        if entry.remote
    ]
    if not only:
        return items
    known = {item.name.lower(): item for item in items}
    unknown = [name for name in only if name.lower() not in known]
    if unknown:
        raise ValueError(
            f"Nothing called {', '.join(map(repr, unknown))} to prefetch. "
            f"Choose among: {', '.join(item.name for item in items)}."
        )
    return [known[name.lower()] for name in dict.fromkeys(only)]


def folder_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (symlinks followed, as the HF cache uses them)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def human_size(size: int) -> str:
    """Decimal units, as the Hub shows them: 999 B, 1.5 kB, 24.8 MB, 1.3 GB."""
    if size < 1000:
        return f"{size} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 999.95 or unit == "TB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def cached_path(item: Item) -> Path | None:
    """Where the cache holds ``item`` now, or None; never uses the network."""
    if item.kind == "checkpoint":
        from ..checkpoints import cached_snapshot

        return cached_snapshot(item.source)
    from ..data import cached_entry

    return cached_entry(item.name)


def verify(item: Item, path: Path) -> None:
    """Load the checkpoint's config and image processor, or decode the image; raise ValueError if that fails."""
    try:
        if item.kind == "checkpoint":
            from transformers import AutoConfig, AutoImageProcessor

            AutoConfig.from_pretrained(path)
            AutoImageProcessor.from_pretrained(path)
        else:
            from ..data import open_checked

            open_checked(path, str(path))
    except Exception as err:  # any loading error means the cached copy is unusable
        raise ValueError(f"{item.name} is in the cache at {path} but does not load: {err}") from err


def download(item: Item) -> Path:
    """Fetch ``item`` into its standard cache and return where it landed."""
    if item.kind == "image":
        from ..data import fetch_entry

        return fetch_entry(item.name)  # the notebooks' own cache, so their load_image is a cache hit
    from huggingface_hub import snapshot_download

    from ..checkpoints import cached_snapshot

    snapshot_download(item.source, allow_patterns=ALLOW_PATTERNS)
    folder = cached_snapshot(item.source)
    if folder is None:  # an older repository without safetensors: take its PyTorch weights instead
        snapshot_download(item.source, allow_patterns=FALLBACK_WEIGHTS)
        folder = cached_snapshot(item.source)
    if folder is None:
        raise ValueError(
            f"{item.source} has no config.json with model.safetensors or pytorch_model.bin in its repository, "
            "so from_pretrained could not load it offline; check the Hub id in helpers/registry.py."
        )
    return folder


def inspect(item: Item) -> Result:
    """The item's state in the cache, verified, without downloading."""
    path = cached_path(item)
    if path is None:
        return Result(item, "missing")
    try:
        verify(item, path)
    except ValueError as err:
        return Result(item, "failed", path, folder_size(path), str(err))
    return Result(item, "cached", path, folder_size(path))


def obtain(item: Item) -> Result:
    """Download ``item`` unless a verified copy is cached already; never raises."""
    found = inspect(item)
    if found.ready:
        return found
    try:
        path = download(item)
        verify(item, path)
    except Exception as err:  # report and go on with the other items
        return Result(item, "failed", error=f"{type(err).__name__}: {err}")
    return Result(item, "downloaded", path, folder_size(path))


def run(items: list[Item], check_only: bool = False) -> list[Result]:
    """Check (``check_only``) or obtain every item, with a progress bar over the items."""
    from tqdm.auto import tqdm

    results = []
    with tqdm(items, desc="checking" if check_only else "prefetching", unit="item") as bar:
        for item in bar:
            bar.set_postfix_str(item.name)
            results.append(inspect(item) if check_only else obtain(item))
    return results


def cache_locations() -> dict[str, Path]:
    """The two cache folders an instructor copies to prepare an offline room."""
    from huggingface_hub import constants

    from ..paths import cache_dir

    return {"Hugging Face cache (HF_HUB_CACHE)": Path(constants.HF_HUB_CACHE),
            "helpers cache (DEPTH_TUTORIALS_CACHE)": cache_dir()}


def summary(results: list[Result]) -> str:
    """A table of what is where and how big, then the totals and the cache folders."""
    rows = [("what", "licence", "state", "size", "where")]
    for r in results:
        rows.append((f"{r.item.kind} {r.item.name}", r.item.licence, r.state,
                     human_size(r.size) if r.path else "-", str(r.path) if r.path else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows]
    ready = [r for r in results if r.ready]
    lines.append(f"total: {len(ready)} of {len(results)} ready, {human_size(sum(r.size for r in ready))} on disk")
    lines += [f"{label}: {path}" for label, path in cache_locations().items()]
    lines += [f"FAILED {r.item.name}: {r.error}" for r in results if r.state == "failed"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.classroom.prefetch [--check] [--only NAME ...]``: fetch or check everything the notebooks use."""
    import argparse

    from ..data import offline

    parser = argparse.ArgumentParser(
        prog="python -m helpers.classroom.prefetch",
        description="Download every checkpoint and remote image the notebooks use into the standard caches, "
        "verify each, and print what is where. Afterwards the notebooks run with HF_HUB_OFFLINE=1.",
    )
    parser.add_argument("--check", action="store_true", help="download nothing; report what is missing (exit 1 if anything is)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="a Hub id or data name (default: everything notebooks 01-12 use; "
                        "notebook 13's extra checkpoints only when named here)")
    args = parser.parse_args(argv)
    try:
        items = plan(args.only)
    except ValueError as err:
        parser.error(str(err))
    if not args.check and offline():
        print("prefetch needs the network, but offline mode is on (HF_HUB_OFFLINE or DEPTH_TUTORIALS_OFFLINE).\n"
              "Unset it for this command (e.g. `HF_HUB_OFFLINE=0 python -m helpers.classroom.prefetch`), "
              "or use --check to see what is cached.")
        return 2
    results = run(items, check_only=args.check)
    print(summary(results))
    missing = [r.item.name for r in results if r.state == "missing"]
    failed = [r.item.name for r in results if r.state == "failed"]
    if missing:
        print(f"missing: {', '.join(missing)}\nRun `python -m helpers.classroom.prefetch` with internet access to fetch them.")
    if missing or failed:
        return 1
    print("Everything is cached. Teach offline with HF_HUB_OFFLINE=1 (see README, 'For instructors').")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
