# ruff: noqa: E501  (CDR lines as Asterisk writes them)
"""Calls rebuilt from Asterisk's CDR (cdr_csv) and queue_log: lines as Asterisk 22 writes them
(copied from the e2e instance), calls out. Pure."""

from __future__ import annotations

from orchestrator.domain.rebuild import parse_cdr, parse_queue_log, rebuild

CDR = '''\
"","","s","svc-agent-restore",""""" <>","Local/s@svc-agent-restore-00000000;2","","","","2026-12-06 01:35:31",,"2026-12-06 01:35:31",0,0,"FAILED","DOCUMENTATION","1796520931.1",""
"","0201234567","r1d1","svc-318000000901",""""" <0201234567>","PJSIP/carrier-00000000","PJSIP/carrier-00000001","Dial","PJSIP/+31205550011@carrier,20","2026-12-06 01:35:32","2026-12-06 01:35:33","2026-12-06 01:35:34",2,1,"ANSWERED","DOCUMENTATION","1.2",""
"","0201234567","rejected","svc-318000000901",""""" <0201234567>","PJSIP/carrier-00000002","","Hangup","21","2026-12-06 01:35:34",,"2026-12-06 01:35:39",4,0,"FAILED","DOCUMENTATION","1.4",""
"","0201234567","r1d1","svc-318000000401",""""" <0201234567>","PJSIP/carrier-0000002a","Local/desk@svca-ph-00000001;1","Queue","ph.solo,,,,30","2026-12-06 01:37:18","2026-12-06 01:37:25","2026-12-06 01:37:59",41,34,"ANSWERED","DOCUMENTATION","1.44",""
"","0101230005","b-billing","fl-flowlive-support",""""" <0101230005>","PJSIP/carrier-00000522","PJSIP/carrier-00000523","Dial","PJSIP/+31205550023@carrier,5,","2026-12-06 01:48:49",,"2026-12-06 01:48:55",5,0,"BUSY","DOCUMENTATION","1.1338",""
"","0101230006","b-bye","fl-other-menu",""""" <0101230006>","PJSIP/carrier-00000524","","Hangup","16","2026-12-06 01:48:49","2026-12-06 01:48:49","2026-12-06 01:48:55",6,6,"ANSWERED","DOCUMENTATION","1.1339",""
'''
QUEUE_LOG = '''\
1796525127|NONE|NONE|NONE|QUEUESTART|
1796806802|1.44|ph.solo|NONE|ENTERQUEUE||0201234567|1
1796806802|1.44|ph.solo|liz|CONNECT|7|1.45|0
1796806803|1.44|ph.solo|liz|COMPLETECALLER|7|34|1
1796806810|1.50|ph.slow.billing|NONE|ENTERQUEUE||0201234567|1
1796806818|1.50|ph.slow.billing|NONE|ABANDON|1|1|8
'''


def test_cdr_and_queue_log_make_calls() -> None:
    visits = parse_queue_log(QUEUE_LOG.splitlines())
    assert (visits["1.44"].queue, visits["1.44"].result, visits["1.44"].agent, visits["1.44"].wait_s) == (
        "solo", "answered", "liz", 7.0)
    assert (visits["1.50"].queue, visits["1.50"].result, visits["1.50"].wait_s) == ("slow", "abandoned", 8.0)
    calls, unknown = rebuild(parse_cdr(CDR.splitlines()), visits, {("flowlive", "support"): ["+318003000001"],
                                                                    ("other", "menu"): ["+31800a", "+31800b"]})
    got = {c.call_id: c for c in calls}
    assert unknown == ["1.1339"]  # a flow two numbers run: which one cannot be told
    assert set(got) == {"1.2", "1.4", "1.44", "1.1338"}  # the Local/ helper leg is no call
    assert (got["1.2"].number, got["1.2"].outcome, got["1.2"].caller, got["1.2"].talk_s) == (
        "+318000000901", "answered", "+31201234567", 1.0)
    assert got["1.4"].outcome == "blocked"
    assert (got["1.44"].outcome, got["1.44"].wait_s, got["1.44"].talk_s, got["1.44"].visit.agent) == (  # type: ignore[union-attr]
        "answered", 7.0, 34.0, "liz")
    assert (got["1.1338"].number, got["1.1338"].flow, got["1.1338"].outcome, got["1.1338"].reason) == (
        "+318003000001", "support", "busy", "destination")


def test_a_call_in_a_flow_version_context_belongs_to_that_flow() -> None:
    # Flow blocks run in ``fl-<tenant>-<flow>.<digest>`` (a version per change): the CDR names that.
    line = [ln for ln in CDR.splitlines() if "fl-flowlive-support" in ln][0]
    flows = {("flowlive", "support"): ["+318003000001"], ("flowlive", "support2"): ["+318003000002"]}
    versioned = line.replace("fl-flowlive-support", "fl-flowlive-support.0123456789")
    [call], unknown = rebuild(parse_cdr([versioned]), {}, flows)
    assert (call.number, call.flow, unknown) == ("+318003000001", "support", [])
    other = line.replace("fl-flowlive-support", "fl-flowlive-support2.0123456789")
    [call] = rebuild(parse_cdr([other]), {}, flows)[0]
    assert (call.number, call.flow) == ("+318003000002", "support2")
    not_a_version = line.replace("fl-flowlive-support", "fl-flowlive-support.x")
    calls, unknown = rebuild(parse_cdr([not_a_version]), {}, flows)
    assert (calls, unknown) == ([], ["1.1338"])  # no flow's context: its number cannot be told
