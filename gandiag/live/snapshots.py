"""Follow a growing ``samples.npz``: each new ``step_<N>`` snapshot read once, in step order.

:class:`gandiag.RunLogger` appends snapshots to the archive in place
(:mod:`gandiag.infra.npzappend`): a poll looks at the file's size and modification
time and, when they changed, lists the members and reads only the new ones,
so following a run costs one snapshot read per snapshot, whatever the number
before it. An append in progress is seen as the archive before it (the
journal); an archive caught half-written by another writer is retried at the
next poll. A snapshot at a step not after the last one read (an archive
rewritten from the start, say) is skipped.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

_STEP = re.compile(r"step_(\d{1,18})\.npy\Z")


class SnapshotFollower:
    """New snapshots of ``path`` since the last :meth:`poll` (``[]`` until the file exists)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.last_step: int | None = None
        self._signature: tuple[int, int] | None = None

    def poll(self) -> list[tuple[int, np.ndarray]]:
        try:
            st = self.path.stat()
        except OSError:
            return []
        signature = (st.st_size, st.st_mtime_ns)
        if signature == self._signature:
            return []
        from gandiag.infra.npzappend import open_archive

        found: list[tuple[int, np.ndarray]] = []
        try:
            with open_archive(self.path) as fh, zipfile.ZipFile(fh) as zf:
                members = sorted((int(m.group(1)), name) for name in zf.namelist() if (m := _STEP.match(name)))
                for step, name in members:
                    if self.last_step is not None and step <= self.last_step:
                        continue
                    with zf.open(name) as member:
                        array = np.lib.format.read_array(member, allow_pickle=False)
                    if array.dtype.kind not in "fiub" or array.ndim < 1 or array.shape[0] == 0:
                        continue  # not a sample array: offline analysis says what is wrong with it
                    found.append((step, array if array.ndim > 1 else array[:, None]))
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            return []  # caught mid-write: the same bytes are read again at the next poll
        self._signature = signature
        if found:
            self.last_step = found[-1][0]
        return found
