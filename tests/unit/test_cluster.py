"""The cluster's pure parts: the cluster file, Kamailio's generated files (checked by the real
`kamailio -c`), a node's state, and the apply decision for a node that is behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.domain.cluster import READY_USER, Node, NodeState, parse_cluster
from orchestrator.edge import kamailio
from orchestrator.errors import EdgeError, PlanInvalid
from orchestrator.generate.kamailio import Edge, dispatcher_list, kamailio_cfg
from orchestrator.services.decision import ApplyDecision

GOOD = {"edge": {"listen": ["127.0.0.1", "10.0.0.1"], "port": 5060, "run_dir": "/var/lib/svcnum/kamailio"},
        "nodes": [{"name": "node1", "sip": "10.0.0.11:5060", "ami": "10.0.0.11:5038"},
                  {"name": "node2", "sip": "10.0.0.12:5060", "ami": "10.0.0.12:5038"}]}


def test_the_cluster_file_reads_into_nodes() -> None:
    config = parse_cluster(GOOD)
    assert [n.name for n in config.nodes] == ["node1", "node2"]
    assert config.nodes[1].uri == f"sip:{READY_USER}@10.0.0.12:5060"
    assert config.listen == ("127.0.0.1", "10.0.0.1") and not config.log_routes


@pytest.mark.parametrize(("change", "field"), [
    ({"nodes": [{"name": "node1", "sip": "10.0.0.11", "ami": "10.0.0.11:5038"}]}, "nodes[0].sip"),
    ({"nodes": [{"name": "Node 1", "sip": "10.0.0.11:5060", "ami": "10.0.0.11:5038"}]}, "nodes[0].name"),
    ({"nodes": [{"name": "a", "sip": "10.0.0.11:5060", "ami": "x:1"},
                {"name": "a", "sip": "10.0.0.11:5060", "ami": "x:2"}]}, "nodes[1].name"),
    ({"nodes": []}, "nodes"),
    ({"edge": {"listen": [], "port": 5060, "run_dir": "/x"}}, "edge.listen"),
    ({"edge": {"listen": ["127.0.0.1"], "port": 70000, "run_dir": "/x"}}, "edge.port"),
    ({"edge": {"listen": ["127.0.0.1"], "port": 5060, "run_dir": "relative"}}, "edge.run_dir"),
])
def test_a_bad_cluster_file_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(PlanInvalid) as caught:
        parse_cluster({**GOOD, **change})
    assert field in [v.field for v in caught.value.violations]


def test_nodes_start_out_of_the_dispatcher_set_and_probed() -> None:
    text = dispatcher_list(parse_cluster(GOOD).nodes)
    assert f"1 sip:{READY_USER}@10.0.0.11:5060 9 0 duid=node1" in text  # 9: inactive + probing


def test_kamailio_accepts_the_generated_configuration(tmp_path: Path) -> None:
    edge = Edge(("127.0.0.1",), 15060, tmp_path, log_routes=True)
    kamailio.write_files(edge, [Node("node1", "127.0.0.1", 15061, "127.0.0.1", 5038)])
    kamailio.check_config(edge)  # the real `kamailio -c`: syntax and modules
    assert "svc-route" in kamailio_cfg(edge) and "svc-route" not in kamailio_cfg(Edge(("127.0.0.1",), 1, tmp_path))


def test_kamailio_refusing_a_configuration_is_our_error(tmp_path: Path) -> None:
    edge = Edge(("127.0.0.1",), 15060, tmp_path, modules_dir="/nonexistent/")
    kamailio.write_files(edge, [Node("node1", "127.0.0.1", 15061, "127.0.0.1", 5038)])
    with pytest.raises(EdgeError, match="Kamailio refuses"):
        kamailio.check_config(edge)


def test_a_node_reads_stale_unless_it_verified_the_committed_version() -> None:
    assert not NodeState("n", True, "v2", True, "v2").stale
    assert NodeState("n", True, "v1", True, "v2").stale
    assert NodeState("n", True, None, False, "v2").describe.startswith("STALE")
    assert NodeState("n", False, None, False, "v2").describe == "down"


def test_a_node_that_is_behind_gets_a_full_reload_and_all_astdb_data() -> None:
    incremental = ApplyDecision(render_changed_only=True, full_reload=None)
    assert incremental.for_node(False) is incremental
    behind = incremental.for_node(True)
    assert behind.full_reload is not None and behind.node_behind
    assert ApplyDecision(True, "--full was asked for").for_node(True).full_reload == "--full was asked for"
