"""The file an admin command writes where the admin said (``export --out``, ``privacy export
--out``): private (0600), in a folder left as it is, and one line naming it when it cannot
be written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.keys import private_file


class CannotWrite(Exception):
    """The output file could not be made, written or put in place: its path and why."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(f"cannot write {path}: {exc.strerror or exc}")


@contextmanager
def output_file(path: Path) -> Iterator[Callable[[bytes], None]]:
    """The function that writes the data of ``path``, a file in a folder the admin named.

    The file is made (under a temporary name) when the block starts, so a folder that is
    missing or not writable is known before any work is done, and becomes ``path`` when the
    block ends; a block that raises leaves no file. Whatever fails in making, writing or
    renaming the file raises CannotWrite; what the block itself raises passes unchanged.
    """
    raised: BaseException | None = None
    try:
        with private_file(path, own_folder=False) as handle:

            def write(data: bytes) -> None:
                try:
                    handle.write(data)
                except OSError as exc:  # a full disk, a file size limit
                    raise CannotWrite(path, exc) from None

            try:
                yield write
            except BaseException as exc:
                raised = exc
                raise
    except OSError as exc:
        if exc is raised:
            raise
        raise CannotWrite(path, exc) from None
