"""The call-centre figures of a cluster: one rule per figure (domain.queue_totals)."""

from __future__ import annotations

from orchestrator.cli.live import format_status
from orchestrator.domain.queue_totals import NodeQueue, merge
from orchestrator.live.notifier import parse_published
from orchestrator.live.queue_figures import ClusterQueues


def test_each_figure_merges_by_its_own_rule() -> None:
    per_node = {
        "node1": {"cc.desk": NodeQueue(waiting=2, longest_wait_s=30.0, answered=8, abandoned=1, within=8,
                                       agents={"ann": "busy", "bob": "available", "cat": "logged-out"})},
        "node2": {"cc.desk": NodeQueue(waiting=1, longest_wait_s=45.04, answered=2, abandoned=3, within=0,
                                       agents={"ann": "available", "bob": "wrap-up", "dan": "unavailable"})},
    }
    desk = merge(per_node, {"node1", "node2"})["cc.desk"]
    assert (desk["waiting"], desk["longest_wait_s"]) == (3, 45.0)  # sum; the longest
    assert (desk["answered"], desk["abandoned"]) == (10, 4)
    assert desk["service_level_pct"] == 80.0  # 8 of 10 answered in time, not the mean of 100 % and 0 %
    # Every agent once, in its strongest state over the nodes: ann busy (node1), bob in wrap-up (node2).
    assert (desk["agents_busy"], desk["agents_wrap_up"], desk["agents_available"]) == (1, 1, 0)
    assert (desk["agents_logged_out"], desk["agents_unavailable"]) == (1, 1)
    assert (desk["nodes_reporting"], desk["nodes"]) == (2, 2)


def test_a_node_that_does_not_report_leaves_the_live_figures_but_not_the_counts() -> None:
    per_node = {
        "node1": {"cc.desk": NodeQueue(waiting=1, longest_wait_s=5.0, answered=3, within=3, agents={"ann": "busy"})},
        "node2": {"cc.desk": NodeQueue(waiting=4, longest_wait_s=60.0, answered=1, abandoned=2, within=0,
                                       agents={"bob": "available"})},
    }
    desk = merge(per_node, {"node1"})["cc.desk"]
    assert (desk["waiting"], desk["longest_wait_s"], desk["agents_busy"], desk["agents_available"]) == (1, 5.0, 1, 0)
    assert (desk["answered"], desk["abandoned"], desk["service_level_pct"]) == (4, 2, 75.0)
    assert (desk["nodes_reporting"], desk["nodes"]) == (1, 2)
    nobody = merge(per_node, set())["cc.desk"]
    assert (nobody["waiting"], nobody["nodes_reporting"], nobody["answered"]) == (0, 0, 4)


def test_a_queue_only_one_node_knows_and_no_answer_yet() -> None:
    merged = merge({"node1": {}, "node2": {"cc.new": NodeQueue(waiting=1, longest_wait_s=2.0)}}, {"node1", "node2"})
    assert merged["cc.new"]["waiting"] == 1 and merged["cc.new"]["service_level_pct"] == 100.0
    assert merged["cc.new"]["nodes"] == 2


def test_cluster_queues_follow_each_node_and_drop_a_dead_one() -> None:
    queues = ClusterQueues(["node1", "node2"])
    queues.service_levels = {"cc.desk": 20}
    for node in ("node1", "node2"):
        queues.reseeded(node, queues.books[node].counts_only())  # the first re-sync after login
    for node, channel, at in (("node1", "PJSIP/a", 100.0), ("node2", "PJSIP/b", 90.0), ("node2", "PJSIP/c", 95.0)):
        queues.handle(node, {"Event": "QueueCallerJoin", "Queue": "cc.desk", "Channel": channel}, at)
    queues.handle("node2", {"Event": "AgentConnect", "Queue": "cc.desk", "Channel": "PJSIP/c", "MemberName": "ann",
                            "HoldTime": "25"}, 120.0)
    queues.handle("node1", {"Event": "QueueMemberStatus", "Queue": "cc.desk", "MemberName": "ann", "InCall": "0",
                            "Wrapuptime": "10"}, 0.0)
    queues.handle("node2", {"Event": "QueueMemberStatus", "Queue": "cc.desk", "MemberName": "ann", "InCall": "1",
                            "Wrapuptime": "10"}, 120.0)
    desk = queues.snapshot(130.0)["cc.desk"]
    assert (desk["waiting"], desk["longest_wait_s"], desk["agents_busy"], desk["agents_available"]) == (2, 40.0, 1, 0)
    assert (desk["answered"], desk["service_level_pct"]) == (1, 0.0)  # 25 s > the 20 s service level
    assert queues.wrapup_of("node2", "cc", "desk", "ann") == 10
    assert queues.busy()
    queues.gone("node1")  # its AMI link dropped: its caller leaves the total at once
    assert queues.snapshot(130.0)["cc.desk"]["waiting"] == 1
    queues.died("node2")  # node2 died too: its caller is gone, its answered call stays counted
    desk = queues.snapshot(130.0)["cc.desk"]
    assert (desk["waiting"], desk["answered"], desk["agents_busy"], desk["nodes_reporting"]) == (0, 1, 0, 0)
    assert queues.books["node1"].queues["cc.desk"].waiting  # node1's book waits for its login re-sync


def test_the_status_table_says_how_many_nodes_a_queue_s_figures_cover() -> None:
    def line(extra: dict[str, str]) -> str:
        published = parse_published({"meta": {}, "queue:cc.desk": {"waiting": "2", **extra}})
        return next(x for x in format_status(published, "today").splitlines() if x.startswith("queue cc.desk"))
    assert line({"nodes_reporting": "1", "nodes": "2"}).endswith("(from 1 of 2 nodes)")
    assert "nodes" not in line({"nodes_reporting": "1", "nodes": "1"})  # one Asterisk: nothing to say
    assert line({"nodes_reporting": "0", "nodes": "1"}).endswith("(from 0 of 1 nodes)")  # its AMI is away
