"""Where helpers write results: an output folder checked before any model work, and OS errors said in words.

``writable_folder`` creates the folder if needed and proves it can write there (a probe file, removed at
once), so that a folder that is a file, or one you may not write to, is reported before minutes of model
work rather than after. ``os_error`` rewrites an operating-system error: the same kind (``PermissionError``,
...; the errno is kept), with a message saying what could not be done, why, and what to do.
"""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

_NO_ACCESS = "you may not write there: choose a folder you can write to, or change its permissions (chmod u+w)"
_ADVICE = {
    errno.EACCES: _NO_ACCESS,
    errno.EPERM: _NO_ACCESS,
    errno.EROFS: "that disk is mounted read-only: choose a folder on a disk you can write to",
    errno.ENOSPC: "the disk is full: free some space, or choose a folder on another disk",
    errno.EDQUOT: "your disk quota is used up: free some space, or choose another folder",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter folder or file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path, or move the file away",
}


def os_error(err: OSError, doing: str) -> OSError:
    """An OSError of the same kind as ``err`` saying ``doing`` (e.g. 'could not write x.npy'), why, and what to do."""
    reason = err.strerror or str(err) or type(err).__name__
    message = f"{doing} ({reason}): {_ADVICE.get(err.errno, 'check the path and the disk')}."
    return OSError(err.errno, message) if err.errno is not None else OSError(message)


def writable_folder(folder: str | Path, what: str = "out_dir") -> Path:
    """``folder``, created if missing, once a probe file could be written there; clear errors naming it otherwise."""
    folder = Path(folder).expanduser()
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        where = "is a file" if blocker == folder else f"cannot be created: {blocker} is a file"
        raise NotADirectoryError(f"{what} {folder} {where}, not a folder. Give a folder (it is created if missing), "
                                 "or move the file away.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise os_error(err, f"could not create {what} {folder}") from None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".helpers-write-test-"):
            pass
    except OSError as err:
        raise os_error(err, f"cannot write in {what} {folder}") from None
    return folder
