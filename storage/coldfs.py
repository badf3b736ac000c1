"""The cold tier's filesystem: a local folder or any URI that pyarrow.fs resolves (s3://, gs://,
hdfs://…), so the tier moves to an object store by changing one setting."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs


@dataclass(frozen=True, slots=True)
class ColdStore:
    fs: pafs.FileSystem
    root: str  # the tier's folder inside fs, without a trailing slash

    @classmethod
    def of(cls, url: str) -> ColdStore:
        if "://" in url:
            fs, path = pafs.FileSystem.from_uri(url)
            return cls(fs, path.rstrip("/"))
        folder = Path(url).expanduser().resolve()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the readings of every park: owner only
        return cls(pafs.LocalFileSystem(), folder.as_posix())

    def make_parent(self, path: str) -> None:
        self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)

    def delete(self, paths: list[str]) -> None:
        """Delete files; one already gone is fine (a retried step)."""
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                self.fs.delete_file(path)

    def size(self, path: str) -> int:
        return int(self.fs.get_file_info(path).size or 0)
