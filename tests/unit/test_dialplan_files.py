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


def test_a_change_without_number_files_shares_every_bucket(tmp_path: Path) -> None:
    """A flow (or entry, or call centre) change writes its files and links every number bucket
    of the running version as it is, without listing the numbers."""
    files = DialplanFiles(tmp_path)
    numbers = {f"n-3180002000{i:02d}.conf": f"[svc-3180002000{i:02d}]\n" for i in range(30)}
    first = files.write({"entry.conf": "[svc-entry]\n", "fl-acme-support.conf": "[fl-acme-support]\n", **numbers})
    second = files.write_changes({"fl-acme-support.conf": "[fl-acme-support]\n; v2\n"}, set())
    assert second.files == first.files == 32
    assert files.read_current() == {"entry.conf": "[svc-entry]\n", "fl-acme-support.conf": "[fl-acme-support]\n; v2\n",
                                    **numbers}
    buckets = sorted(p.name for p in first.path.iterdir() if p.name.startswith("nb-"))
    assert len(buckets) == 30
    for bucket in buckets:
        assert os.readlink(second.path / bucket) == os.readlink(first.path / bucket)
    assert (second.path / "numbers.conf").read_text() == (first.path / "numbers.conf").read_text()
    assert files.locate(second.path, "entry.conf").stat().st_ino == files.locate(first.path, "entry.conf").stat().st_ino
    third = files.write_changes({}, {"fl-acme-support.conf"})  # a flow that leaves
    assert "fl-acme-support.conf" not in files.read_current() and third.files == 31
