"""Writing outputs safely: folders checked up front, files replaced atomically with ordinary modes.

Every command that writes (``report --out``, ``analyze --plot``, ``train
--out``, ``verify --update``, :class:`gandiag.live.runlog.RunLogger`) goes through
here, so a bad output path is one clear :class:`~gandiag.errors.OutputError`
before any work is done, and a written file is never half there:

- :func:`prepare_out_dir` creates a folder (and its parents) or says why it
  cannot: the path is a file, a parent is a file, permission denied, a
  read-only file system;
- :func:`atomic_write_bytes` writes to a temporary file beside the target and
  renames it over the target. The temporary file is created with mode
  ``0o666`` minus the umask, as ``open()`` would (``tempfile.mkstemp`` would
  make it ``0o600``), or with the mode of the file it replaces.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from gandiag.errors import OutputError

#: prefix and suffix of the temporary files (a RunLogger holding its folder's lock removes stale ones)
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def _why(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def prepare_out_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents), or raise an OutputError saying why not."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{option} names a file, not a folder", where=str(p),
                          hint=f"Give {option} a folder path (it is created if missing)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot create the {option} folder: a part of its path is a file", where=str(p),
                          hint=f"Give {option} a path whose parents are folders") from None
    except OSError as exc:
        raise OutputError(f"cannot create the {option} folder ({_why(exc)})", where=str(p),
                          hint="Choose a folder you can write to") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in the {option} folder (permission denied)", where=str(p),
                          hint="Choose a folder you can write to")
    return p


def temp_path(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (hidden, ends in ``.tmp``)."""
    return target.with_name(f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def create_exclusive(path: Path, mode: int | None = None) -> int:
    """``os.open`` a new file for writing: mode 0o666 minus the umask, or ``mode`` when given."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    if mode is not None:
        os.fchmod(fd, mode)
    return fd


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the mode of the file it replaces, else ``0o666`` minus the
    umask. Raises :class:`OutputError` when the folder cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = None
        tmp = temp_path(path)
        fd = create_exclusive(tmp, mode)
    except OSError as exc:
        raise OutputError(f"cannot write the file ({_why(exc)})", where=str(path),
                          hint="Check that the folder exists and can be written") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the file ({_why(exc)})", where=str(path),
                              hint="Free some space or choose another folder") from None
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8, atomically; returns the path."""
    atomic_write_bytes(path, text.encode("utf-8"))
    return Path(path)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, default=None) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=default, allow_nan=True)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))
