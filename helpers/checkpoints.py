"""Checkpoints: the real one when the Hub or the local cache has it, an honest stand-in otherwise.

``resolve_checkpoint("Intel/zoedepth-nyu-kitti")`` returns something that ``pipeline(...)`` and
``Auto*.from_pretrained(...)`` accept:

1. the Hub id itself when the Hub answers (the real weights are downloaded and cached as usual);
2. the local snapshot folder when the real checkpoint is in the Hugging Face cache;
3. otherwise a *stand-in*: a folder with the same model class, the checkpoint's real image-processor
   settings and random weights from a fixed seed (built in ``helpers/standins.py``). Its outputs mean
   nothing, and it says so.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from time import monotonic

from .registry import CHECKPOINTS, CheckpointInfo
from .standins import PREFETCH_COMMAND, STAND_IN_LABEL, build_stand_in, is_stand_in


class UnknownCheckpointError(ValueError):
    """The checkpoint id is neither on the Hub, nor in the cache, nor one this project can stand in for."""


def checkpoint_info(checkpoint: str) -> CheckpointInfo:
    """Registry entry for a Hub id (case-insensitive, as the Hub is); a clear error for unknown ids."""
    for hub_id, info in CHECKPOINTS.items():
        if hub_id.lower() == checkpoint.strip().lower():
            return info
    raise UnknownCheckpointError(_unknown_message(checkpoint, "it is not in this project's registry"))


def _unknown_message(checkpoint: str, why: str) -> str:
    close = difflib.get_close_matches(checkpoint, list(CHECKPOINTS), n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"Unknown checkpoint {checkpoint!r}: {why}.{hint} "
        f"Known checkpoints: {', '.join(CHECKPOINTS)}. Any other Hub depth checkpoint works when the Hub is reachable."
    )


REPROBE_AFTER_S = 30.0  # a kernel started offline notices within this long that the network came back
_PROBES: dict[str, tuple[float, bool]] = {}  # endpoint -> (when it was probed, whether it answered)


def hub_is_reachable(timeout: float = 1.0) -> bool:
    """True when the Hub (``HF_ENDPOINT``) answers; asked again after ``REPROBE_AFTER_S`` s, at most 2 x ``timeout``."""
    from .data import hub_endpoint, offline

    if offline():
        return False
    endpoint = hub_endpoint()
    probed = _PROBES.get(endpoint)
    if probed is not None and monotonic() - probed[0] < REPROBE_AFTER_S:
        return probed[1]
    import requests

    try:  # (connect, read) timeouts: one decision takes at most 2 x timeout
        requests.head(f"{endpoint}/api/models", timeout=(timeout, timeout), allow_redirects=False)
        answered = True
    except requests.RequestException:
        answered = False
    _PROBES[endpoint] = (monotonic(), answered)
    return answered


def cached_snapshot(checkpoint: str) -> Path | None:
    """The local Hugging Face cache folder of a fully downloaded checkpoint, or None."""
    from huggingface_hub import try_to_load_from_cache

    candidates = [checkpoint]
    try:
        candidates.append(checkpoint_info(checkpoint).hub_id)
    except UnknownCheckpointError:
        pass
    for repo_id in dict.fromkeys(candidates):
        config = try_to_load_from_cache(repo_id, "config.json")
        if isinstance(config, str):
            folder = Path(config).parent
            if any((folder / name).exists() for name in ("model.safetensors", "pytorch_model.bin")):
                return folder
    return None


def _hub_has(checkpoint: str) -> bool | None:
    """True/False when the Hub says whether the model repository exists; None when it could not tell."""
    from huggingface_hub import model_info
    from huggingface_hub.errors import GatedRepoError, HFValidationError, RepositoryNotFoundError

    try:
        model_info(checkpoint, timeout=10)
    except GatedRepoError:
        return True  # exists; loading will explain how to accept its terms
    except (RepositoryNotFoundError, HFValidationError):
        return False
    except Exception:  # network trouble after the probe: fall back to the cache or a stand-in
        return None
    return True


def resolve_checkpoint(checkpoint: str, full: bool = False) -> str:
    """The real checkpoint when it can be had; otherwise build (once) and return an announced stand-in.

    ``full=True`` gives a stand-in with the real architecture dimensions (for honest timings);
    the default is a tiny one (same classes, small dimensions) so that CI runs fast.
    """
    if Path(checkpoint).is_dir():
        return str(checkpoint)  # a local model folder: use it as it is
    if hub_is_reachable():
        verdict = _hub_has(checkpoint)
        if verdict:
            return checkpoint
        if verdict is False:
            raise UnknownCheckpointError(_unknown_message(checkpoint, "the Hub has no such model repository"))
    snapshot = cached_snapshot(checkpoint)
    if snapshot is not None:
        return str(snapshot)
    try:
        info = checkpoint_info(checkpoint)
    except UnknownCheckpointError:
        raise UnknownCheckpointError(
            _unknown_message(checkpoint, "the Hub is unreachable, it is not in your local cache, "
                             "and it is not in this project's registry, so no stand-in can be built")
        ) from None
    folder = build_stand_in(info, full=full)
    _announce(info, full)
    return str(folder)


_ANNOUNCED: set[tuple[str, bool]] = set()


def _announce(info: CheckpointInfo, full: bool) -> None:
    if (info.hub_id, full) in _ANNOUNCED:
        return
    _ANNOUNCED.add((info.hub_id, full))
    line = "!" * 78
    print(
        f"{line}\n"
        f"STAND-IN MODEL: {info.hub_id} could not be loaded (no Hub access, not in the local cache).\n"
        f"Using a {'full-size' if full else 'tiny'} stand-in instead: the same model class and the real\n"
        f"image-processor settings, but RANDOM weights. Every depth map it makes is MEANINGLESS;\n"
        f"shapes, dtypes and the code path are real{', and so are its timings' if full else ''}.\n"
        f"For the real model: run with internet access, or once `{PREFETCH_COMMAND}`.\n"
        f"{line}"
    )


def load_depth_model(checkpoint: str, device: str = "cpu", full: bool = False):
    """``(image_processor, model)`` for a checkpoint resolved as above, the model on ``device``; says which weights run."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    path = resolve_checkpoint(checkpoint, full=full)
    image_processor = AutoImageProcessor.from_pretrained(path)
    model = AutoModelForDepthEstimation.from_pretrained(path).to(device)
    if is_stand_in(model):
        print(f"{STAND_IN_LABEL}: every depth value and picture from this {type(model).__name__} is noise; "
              "shapes, sizes and the code path are real.")
    else:
        print(f"{checkpoint}: the real weights, on {device}.")
    return image_processor, model
