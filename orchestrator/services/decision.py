"""Full or incremental: the one place an apply decides how much to render and how to load it.

Two questions, answered from the same facts:
- may only the numbers whose entry changed be rendered? Only while the files on disk are the
  version this database committed, written by the same generator, for the same tenant-level part
  (the salt); otherwise every number of every tenant is rendered again.
- may the change be pushed context by context over AMI? Only while Asterisk is known to run the
  committed version and the change is small and leaves the shared library alone; otherwise one
  full ``dialplan reload``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.asterisk.push import MAX_INCREMENTAL_FILES
from orchestrator.generate.files import needs_full_reload


@dataclass(frozen=True)
class Facts:
    full_asked: bool
    committed_dir: str | None  # the version the database committed (None: it never applied)
    committed_generator: str | None
    loaded: bool  # Asterisk was loaded with the committed version (False after --offline)
    link: Path | None  # what the svc link points at
    build: str  # what generates the files now (generator, trunk, holidays, settings)
    salt_matches: bool  # the tenant-level part of the plan is as applied before


@dataclass(frozen=True)
class ApplyDecision:
    render_changed_only: bool
    full_reload: str | None  # why Asterisk reloads everything; None: push the change over AMI
    why_render_all: str | None = None
    node_behind: bool = False  # a cluster node not on the committed version: it also needs all AstDB data

    @classmethod
    def decide(cls, facts: Facts) -> ApplyDecision:
        files = _files_untrusted(facts)
        reload = files or (None if facts.loaded else "Asterisk has not loaded the committed version (offline apply)")
        render_all = files or (None if facts.salt_matches else "the tenant-level part of the plan changed")
        return cls(render_all is None, reload, render_all)

    def for_change(self, names: list[str]) -> ApplyDecision:
        """The decision once the changed files are known: a change to the shared library, or too
        many files, is loaded with one full reload."""
        if self.full_reload is not None:
            return self
        why = needs_full_reload(names)
        if why is None and len(names) > MAX_INCREMENTAL_FILES:
            why = f"{len(names)} files changed"
        return self if why is None else replace(self, full_reload=why)


    def for_node(self, behind: bool) -> ApplyDecision:
        """A cluster node that does not run the committed version (it was down, or a previous
        apply could not reach it) cannot take a change pushed context by context."""
        if not behind:
            return self
        return replace(self, full_reload=self.full_reload or "this node does not run the committed version",
                       node_behind=True)


def _files_untrusted(facts: Facts) -> str | None:
    """Why the files on disk (and the digests describing them) cannot be built upon, if so."""
    if facts.full_asked:
        return "--full was asked for"
    if facts.committed_dir is None:
        return "first apply this database sees"
    # A new generator may spell a pattern differently; Asterisk sees the same extension, which
    # an AMI remove step would then take away.
    if facts.committed_generator != facts.build:
        return "new generator, a new year of holidays, or a changed setting"
    if facts.link is None or str(facts.link) != facts.committed_dir:
        return "the files on disk are not the version this database committed"
    return None
