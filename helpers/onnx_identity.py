"""What an exported or quantized model file is, and the rules for a file that is already there.

``export_onnx`` and the quantizers (``helpers.deploy``, ``helpers.quantize``) record in each file where its weights
came from: the checkpoint or stand-in id (``model_source``), a hash of the config and one of the weights, the
export format, and for a quantized file the method and the calibration set. An ONNX file keeps them in its
``metadata_props`` (``read_metadata``), an OpenVINO IR in its ``rt_info`` (``read_ir_metadata``). A file that is
already there is reused when it records the same identity, refused with a clear error otherwise, and never
overwritten unless ``overwrite=True``; a new file is written in a private folder and moved into place in one step
(``staged_file``). ``check_onnx`` is the one reader of ONNX files, with clear errors for a missing, empty,
truncated or corrupt one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .outputs import os_error
from .standins import MARKER, is_stand_in


META_PREFIX = "depth_tutorials."
INPUT_NAME, OUTPUT_NAME = "pixel_values", "predicted_depth"


def model_source(model: Any) -> str:
    """Where the weights came from: the Hub id, or 'STAND-IN for <id> (tiny|full-size, random weights)'."""
    path = str(getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", ""))
    if is_stand_in(path):
        marker = json.loads((Path(path) / MARKER).read_text())
        size = "tiny" if marker.get("size") == "tiny" else "full-size"
        return f"STAND-IN for {marker['stand_in_for']} ({size}, random weights)"
    match = re.search(r"models--([^/\\]+?)--([^/\\]+)[/\\]snapshots", path)  # a Hugging Face cache folder
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return path or type(model).__name__


def config_hash(model: Any) -> str:
    """SHA-256 of the model's configuration (its architecture), without where it was loaded from."""
    config = model.config.to_dict()
    for key in ("_name_or_path", "transformers_version", "_commit_hash", "torch_dtype", "dtype", "stand_in_for"):
        config.pop(key, None)
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def weights_hash(model: Any) -> str:
    """SHA-256 of every parameter and buffer (names, shapes, dtypes and bytes)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.view(torch.uint8).numpy() if tensor.numel() else b"")
    return digest.hexdigest()


@dataclass(frozen=True)
class OnnxExport:
    """What ``export_onnx`` did: the file, whether a valid earlier export was reused, and how long it took."""

    path: Path
    reused: bool
    seconds: float
    source: str

    @property
    def megabytes(self) -> float:
        """The file's size in MB (10^6 bytes); an OpenVINO IR counts its ``.xml`` and its ``.bin``."""
        files = [self.path] + ([self.path.with_suffix(".bin")] if self.path.suffix == ".xml" else [])
        return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def read_metadata(path: str | Path) -> dict[str, str]:
    """This project's entries of an ONNX file's ``metadata_props`` (source, hashes, size multiple), prefix removed."""
    return onnx_metadata(check_onnx(path, full_check=False))


def onnx_metadata(model: Any) -> dict[str, str]:
    return {p.key[len(META_PREFIX):]: p.value for p in model.metadata_props if p.key.startswith(META_PREFIX)}


# How export_onnx writes the graph; files written another way are exported again (with overwrite=True), not reused.
# "2": attention as MatMul -> Softmax -> MatMul, which OpenVINO fuses into one kernel (helpers.deploy._attention_as_matmuls).
EXPORT_FORMAT = "2"


def model_identity(model: Any) -> dict[str, str]:
    return {"source": model_source(model), "config_sha256": config_hash(model), "weights_sha256": weights_hash(model),
            "export_format": EXPORT_FORMAT}


IDENTITY_KEYS = ("source", "config_sha256", "weights_sha256", "export_format")  # what model_identity records


def identity_mismatch(found: dict[str, str], wanted: dict[str, str]) -> list[str]:
    return [key for key in IDENTITY_KEYS if found.get(key) != wanted[key]]


@contextlib.contextmanager
def staged_file(path: Path, companions: Sequence[str] = ()):
    """Yield a path in a private folder beside ``path`` to write the file to; once the block ends without an error
    it replaces ``path`` in one step (atomic on one file system), so an interrupted write never leaves a file that
    looks complete. The folder goes either way. ``companions``: suffixes of files written beside it (an IR's
    ``.bin``), moved in before ``path`` itself."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", dir=path.parent))
    except OSError as err:
        raise os_error(err, f"could not write {path}") from None
    try:
        yield staging / path.name
        for suffix in companions:
            os.replace(staging / path.with_suffix(suffix).name, path.with_suffix(suffix))
        os.replace(staging / path.name, path)
    except OSError as err:  # a full disk while saving, ...
        raise os_error(err, f"could not write {path}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def existing_metadata(path: Path) -> dict[str, str]:
    """The metadata of a file that is in the way; a FileExistsError (file left alone) when it is not ONNX."""
    try:
        return read_metadata(path)
    except (OSError, ValueError) as err:
        raise FileExistsError(f"{path} exists but is not a usable ONNX file ({err}). It was left alone: "
                              "pass overwrite=True to replace it, or choose another path.") from None


def check_onnx(path: str | Path, full_check: bool = True):
    """Load an .onnx file (and run onnx's checker): the one reader, with a clear error for a missing, empty,
    truncated or corrupt file, naming it and saying what to do. Every function here that reads ONNX uses it."""
    import onnx

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give the path of an .onnx file.")
    if not path.is_file():
        raise FileNotFoundError(f"No ONNX file at {path}: export one first with "
                                f"helpers.export_onnx(model, {str(path)!r}).")
    try:
        empty = path.stat().st_size == 0
        model = None if empty else onnx.load(str(path))
    except OSError as err:
        raise os_error(err, f"could not read {path}") from None
    except Exception as err:  # protobuf DecodeError, ...
        raise invalid_onnx(path, err) from None
    if model is None or not model.graph.node or not model.opset_import or model.ir_version < 1:
        raise invalid_onnx(path, "empty: 0 bytes" if empty else "no graph or no opset: the file ends early")
    if full_check:
        try:
            onnx.checker.check_model(model)
        except Exception as err:  # ValidationError, ...
            raise invalid_onnx(path, err) from None
    return model


def invalid_onnx(path: Path, reason: Any) -> ValueError:
    """The error for a file that is not a usable ONNX model: its name, why, and what to do (one wording for all)."""
    if isinstance(reason, BaseException):
        first = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
        reason = f"{type(reason).__name__}: {first}" if first else type(reason).__name__
    return ValueError(f"{path} is not a valid ONNX file ({reason}). It may be truncated or not an ONNX model: "
                      "delete it and export again (export_onnx(..., overwrite=True)).")


def error_line(err: BaseException) -> str:
    """One line for a caught error: its type and the first line of its message, without terminal colour codes."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    return f"{type(err).__name__}: {message.splitlines()[0] if message else '(no message)'}"


def read_ir_metadata(path: str | Path) -> dict[str, str]:
    """This project's entries of an OpenVINO IR's ``rt_info`` (what ``quantize_static_int8`` recorded)."""
    import openvino as ov

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No OpenVINO IR at {path}: write one with helpers.quantize_static_int8(...).")
    try:
        model = ov.Core().read_model(str(path))
    except Exception as err:  # a missing .bin, a truncated .xml, ...
        raise ValueError(f"{path} is not a valid OpenVINO IR ({error_line(err)}). Delete it (and its .bin) and "
                         "quantize again (quantize_static_int8(..., overwrite=True)).") from None
    info = model.get_rt_info()
    entries = info[META_PREFIX.rstrip(".")] if META_PREFIX.rstrip(".") in info else {}
    return {key: value.astype(str) if hasattr(value, "astype") else str(value) for key, value in entries.items()}
