"""The Asterisk side of an apply beyond the dialplan: call centres (agent phones, queues), and in a
cluster the other nodes: each loads the same version, verifies it and gets the same AstDB data
before the database commits (services/apply.py calls these; services/cluster.py keeps the rest)."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.asterisk import push
from orchestrator.asterisk.ami import Ami
from orchestrator.domain.naming import MOH_FILE, QUEUES_FILE
from orchestrator.errors import OrchestratorError
from orchestrator.services import cluster, consistency
from orchestrator.services.apply_render import Rendered
from orchestrator.services.callcentre import control, phones
from orchestrator.services.decision import ApplyDecision
from orchestrator.services.flow_lists import sync_lists
from orchestrator.store.session import Session

Progress = Callable[[str], None]


async def push_call_centres(ami: Ami, rendered: Rendered, tenant: str, progress: Progress) -> None:
    """Reload PJSIP when the agent phones changed (first: queues watch their state), reload queues
    (waiting callers stay) when their configuration changed, check the tenant's queues exist, and
    put agents' pauses back from AstDB."""
    old, new, centres = rendered.old_config, rendered.config, rendered.centres
    await phones.push(ami, old, new, centres, progress)
    if all(old.get(name) == new.get(name) for name in (QUEUES_FILE, MOH_FILE)):
        return
    await control.reload_queues(ami, music=old.get(MOH_FILE) != new.get(MOH_FILE))
    mine = [c for c in centres if c.tenant == tenant]
    names = [q.name for c in mine for qf in c.queues for q in qf.queues.values()]
    checked = await control.verify_queues(ami, names)
    restored = sum([await control.restore_agent_states(ami, c) for c in mine])
    progress(f"queues reloaded; verified {checked} queues, restored {restored} agent pauses")


async def load_peers(session: Session, peers: list[cluster.Peer], tenant: str, lists: list[str], rendered: Rendered,
                     change: push.Change, decision: ApplyDecision, contexts: int, progress: Progress) -> list[str]:
    """The other nodes load the same version the same way (context by context unless one is
    behind), verify it and get the same AstDB data; the first that fails fails the apply."""
    committed = cluster.committed_version(session)
    parsed = push.Parsed()

    async def one(ami: Ami) -> None:
        chosen = decision.for_node(await cluster.node_version(ami) != committed)
        await push.load(ami, change, full=chosen.full_reload, checks=rendered.checks,
                        contexts=contexts, parsed=parsed, progress=progress)
        await consistency.sync_blacklists(ami, rendered.blacklists)
        await push_call_centres(ami, rendered, tenant, progress)
        await sync_lists(session, ami, tenant, lists)
        if chosen.node_behind:  # it missed earlier AstDB changes too
            await cluster.sync_all_astdb(session, ami)
        await cluster.make_ready(ami)

    return await cluster.load_peers(peers, one, progress)


async def mark_nodes(nodes: list[tuple[str, Ami]], version: str, progress: Progress) -> None:
    """After the commit: each node records the version it verified (``status`` reads it). A node
    that cannot be told stays marked behind, which is safe: it catches up with a full reload."""
    for name, ami in nodes:
        try:
            await cluster.mark(ami, version)
        except OrchestratorError as exc:
            progress(f"warning: node {name} took {version} but could not record it ({exc}); it shows as stale")


async def restore_peers(session: Session, primary: Ami, peers: list[cluster.Peer], numbers: list[str],
                        progress: Progress) -> None:
    """After a failed apply, the link points at the previous version again: every node reloads it
    (the primary already has) and takes calls again; one that cannot stays out until it catches up."""
    for name, ami in [("", primary), *((p.name, p.ami) for p in peers)]:
        try:
            if ami is not primary:
                await consistency.reload_committed(ami, session, numbers)
            await cluster.make_ready(ami)
        except OrchestratorError as exc:
            progress(f"warning: node {name} could not be put back ({exc}); it takes no calls until it catches up")
