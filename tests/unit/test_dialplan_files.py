"""Dialplan file versions on disk (real files in a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.asterisk.dialplan_files import DialplanFiles


def test_a_flat_version_from_before_the_buckets_is_read_and_carried_over(tmp_path: Path) -> None:
    """An installation upgraded from the flat layout (number files next to entry.conf) reads its
    running version and writes the next one in the bucket layout, keeping unchanged texts."""
    legacy = tmp_path / "svc-versions" / "20261123T195614-384dd10780"
    legacy.mkdir(parents=True)
    texts = {"entry.conf": "[svc-entry]\n", "lib.conf": "[svc-lib]\n", "n-318000200001.conf": "[svc-318000200001]\n"}
    for name, text in texts.items():
        (legacy / name).write_text(text)
    os.symlink(os.path.relpath(legacy, tmp_path), tmp_path / "svc")
    files = DialplanFiles(tmp_path)
    assert files.read_current() == texts
    changed = {**texts, "entry.conf": "[svc-entry]\n; changed\n"}
    version = files.write(changed, unchanged_files=files.read_current())
    assert files.current() == version.path != legacy
    assert files.read_current() == changed
    assert (version.path / "numbers.conf").exists()  # the bucket layout from now on
    assert not (version.path / "n-318000200001.conf").exists()
    again = files.write_changes({"n-318000200001.conf": "[svc-318000200001]\n; v2\n"}, set())
    assert files.read_current()["n-318000200001.conf"].endswith("; v2\n")
    entry_inodes = {files.locate(v.path, "entry.conf").stat().st_ino for v in (version, again)}
    assert len(entry_inodes) == 1  # unchanged: linked, not written again
