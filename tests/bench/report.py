"""BENCHMARKS.md (a table: measurement, configuration, value, ratio to bare Asterisk, command) and
benchmarks.png from the results of tests/bench/run.py. Re-render from a saved run with
``python -m tests.bench.report var/bench-<stamp>/results.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.bench.stack import CONFIGS

LABEL = {c.key: f"({c.key}) {c.label}" for c in CONFIGS}
WORKER = "python -m tests.bench.apply_worker --numbers {n}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "—"
    return f"{value / base:.2f}"


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    tp = r.get("throughput")
    if tp:
        base = tp["best"].get("a") or None
        for k, rate in tp["best"].items():
            cmd = tp["command"].get(k) or "—"
            if k == "d":
                cmd += " (+ `orchestrator serve`)"
            fail = tp["failed_at"].get(k)
            note = f" (failures at {fail}/s)" if fail else " (no failure up to the highest rate tried)"
            rows.append((f"call throughput, 0 % failures for {tp['seconds']} s", LABEL[k], f"{rate} calls/s{note}",
                         _ratio(rate, base), f"`{cmd}`"))
    pdd = r.get("pdd")
    if pdd:
        a = pdd["configs"].get("a", {})
        for k, p in pdd["configs"].items():
            cmd = f"`{p['command']}`" + (" (+ `orchestrator serve`)" if k == "d" else "")
            rows.append((f"post-dial delay, median ({pdd['rate']} calls/s, {p['samples']} calls)", LABEL[k],
                         f"{p['median_ms']:.2f} ms", _ratio(p["median_ms"], a.get("median_ms")), cmd))
            added = p["p99_ms"] - a.get("p99_ms", 0.0)
            rows.append((f"post-dial delay, p99 ({pdd['rate']} calls/s)", LABEL[k],
                         f"{p['p99_ms']:.2f} ms (added {added:+.2f} ms)", _ratio(p["p99_ms"], a.get("p99_ms")), cmd))
            lag = p.get("event_to_redis")
            if lag:
                rows.append((f"live figures, AMI event -> Redis ({pdd['rate']} calls/s)", LABEL[k],
                             f"{lag['within_1s'] * 100:.1f} % of {lag['writes']:.0f} writes within 1 s "
                             f"({lag['within_100ms'] * 100:.1f} % within 100 ms), mean {lag['mean_ms']:.1f} ms", "—",
                             "`svc_event_to_redis_seconds` from the controller's /metrics"))
    for ap in r.get("apply", []):
        n = ap["numbers"]
        cmd = f"`{WORKER.format(n=n)}`"
        if "error" in ap:
            rows.append((f"apply, {n:,} numbers", "—", "failed: " + ap["error"][-200:].replace("\n", " "), "—", cmd))
            continue
        base = ap["plain_reload_s"]
        st = ap["stages"]
        rows += [
            (f"plain `dialplan reload`, {n:,} numbers", "Asterisk alone, same files", f"{base:.2f} s", "1.00",
             "`asterisk -rx 'dialplan reload'` (over AMI)"),
            (f"full generate + apply, {n:,} numbers", "end to end (`orchestrator apply`)",
             f"{ap['full']['seconds']:.2f} s ({ap['full']['how']}; Asterisk part {ap['full']['asterisk_s']:.2f} s)",
             _ratio(ap["full"]["seconds"], base), cmd),
            (f"compile in Python, {n:,} numbers", "parse / rules / compile / render",
             f"{st['total']:.2f} s ({st['parse']:.2f} / {st['rules']:.2f} / {st['compile']:.2f} / {st['render']:.2f})",
             _ratio(st["total"], base), cmd),
            (f"one number changed, {n:,} numbers", "end to end",
             f"{ap['one_change']['seconds'] * 1000:.0f} ms ({ap['one_change']['how']})",
             _ratio(ap["one_change"]["seconds"], base), cmd),
            (f"one number changed, {n:,} numbers", "Asterisk part (AMI push + verify)",
             f"{(ap['one_change']['asterisk_s'] or 0) * 1000:.1f} ms",
             _ratio(ap["one_change"]["asterisk_s"], base), cmd),
            *([(f"call centre changed, {n:,} numbers", "end to end (agents + longest wait of a queue)",
                f"{ap['centre_change']['seconds'] * 1000:.0f} ms ({ap['centre_change']['how']})",
                _ratio(ap["centre_change"]["seconds"], base), cmd)] if "centre_change" in ap else []),
            *([(f"one number changed via the API, {n:,} numbers", "`PUT /numbers/{n}` (no plan file)",
                f"{ap['api_one_number']['seconds'] * 1000:.0f} ms ({ap['api_one_number']['how']})",
                _ratio(ap["api_one_number"]["seconds"], base), cmd)] if "api_one_number" in ap else []),
            (f"memory, {n:,} numbers", "orchestrator (apply process, peak VmHWM)",
             f"{ap['hwm_kb'] / 1024:.0f} MB", _ratio(ap["hwm_kb"], r.get("asterisk_bare_rss_kb")), cmd),
            (f"memory, {n:,} numbers", "Asterisk VmRSS with them loaded",
             f"{ap['asterisk_rss_kb'] / 1024:.0f} MB", _ratio(ap["asterisk_rss_kb"], r.get("asterisk_bare_rss_kb")),
             cmd),
        ]
    if r.get("asterisk_bare_rss_kb"):
        rows.append(("memory", "Asterisk VmRSS, fresh, bare one-line dialplan",
                     f"{r['asterisk_bare_rss_kb'] / 1024:.0f} MB", "1.00", "`grep VmRSS /proc/<asterisk pid>/status`"))
    if r.get("asterisk_rss_after_load_kb"):
        rows.append(("memory", "Asterisk VmRSS after the throughput steps (calls all ended)",
                     f"{r['asterisk_rss_after_load_kb'] / 1024:.0f} MB",
                     _ratio(r["asterisk_rss_after_load_kb"], r.get("asterisk_bare_rss_kb")),
                     "`grep VmRSS /proc/<asterisk pid>/status`"))
    if r.get("live_rss_kb"):
        rows.append(("memory", "live controller (`orchestrator serve`) after a load step",
                     f"{max(r['live_rss_kb']) / 1024:.0f} MB",
                     _ratio(max(r["live_rss_kb"]), r.get("asterisk_bare_rss_kb")), "`orchestrator serve`"))
    pr = r.get("premium")
    if pr:
        rows.append((f"0900 max duration: hang-up minus limit ({pr['measured']}/{pr['calls']} calls at once)",
                     "Basis 0900, max_duration 20 s (Dial L())",
                     f"median {pr['median_s'] * 1000:+.0f} ms, max {pr['max_s'] * 1000:+.0f} ms",
                     "— (Asterisk's own timer)", f"`{pr['command']}`"))
    rows += _report_rows(r.get("reports") or {})
    return rows


def _report_rows(rp: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Issue 16: a month of reports for one tenant (tests/bench/reports_bench.py)."""
    rows: list[tuple[str, str, str, str, str]] = []
    cmd = "`python -m tests.bench.reports_bench`"
    for db, limits in (("postgresql", {"volume": 1.0, "callers": 2.0}), ("sqlite", {"volume": 0.5, "callers": 0.5})):
        d = rp.get(db)
        if not d:
            continue
        for kind, what in (("volume", "a month of `volume` per hour"), ("callers", "a month of `callers`")):
            k = d[kind]
            rows.append((f"report: {what}, one tenant ({k['calls_in_month']:,} calls)",
                         f"{db}, {d['records']:,} records", f"{k['seconds'] * 1000:.0f} ms (target ≤ {limits[kind]} s)",
                         "—", cmd))
        w = d["write"]
        rows.append(("call record write, per call (rollups + hash + tariff)", f"{db}, batches of 1 / 200",
                     f"{w['batch_1_now_ms_per_call']:.2f} / {w['batch_200_now_ms_per_call']:.2f} ms",
                     f"before reports: {w['batch_1_before_ms_per_call']:.2f} / "
                     f"{w['batch_200_before_ms_per_call']:.2f} ms", cmd))
    return rows


def _targets(r: dict[str, Any]) -> list[str]:
    out = []
    tp = r.get("throughput")
    if tp and tp["best"].get("a"):
        base = tp["best"]["a"]
        for k in ("b", "c", "d"):
            share = tp["best"].get(k, 0) / base
            verdict = "met" if share >= 0.95 else f"MISSED by {(0.95 - share) * 100:.0f} points"
            out.append(f"- Throughput ({k}) ≥ 95 % of (a): {share * 100:.0f} % — {verdict}. "
                       f"(Rates are stepped, so the ratio is only as fine as the step.)")
    pdd = r.get("pdd")
    if pdd and "a" in pdd["configs"]:
        a = pdd["configs"]["a"]["p99_ms"]
        for k in ("b", "c", "d"):
            if k in pdd["configs"]:
                added = pdd["configs"][k]["p99_ms"] - a
                verdict = "met" if added <= 5 else f"MISSED by {added - 5:.1f} ms"
                out.append(f"- Added post-dial delay p99 ({k}) ≤ 5 ms: {added:+.2f} ms — {verdict}.")
        lag = pdd["configs"].get("d", {}).get("event_to_redis")
        if lag:
            verdict = "met" if lag["within_1s"] >= 1.0 else f"MISSED for {(1 - lag['within_1s']) * 100:.1f} % of writes"
            out.append(f"- Live figures within 1 s of the event: {lag['within_1s'] * 100:.1f} % of "
                       f"{lag['writes']:.0f} writes — {verdict}.")
    applies = [ap for ap in r.get("apply", []) if "error" not in ap]
    if applies:
        big = max(applies, key=lambda ap: ap["numbers"])
        n = big["numbers"]
        one = big["one_change"]["seconds"]
        verdict = "met" if one <= 0.2 else f"MISSED by {one - 0.2:.1f} s ({one / 0.2:.0f}×)"
        out.append(f"- One-number change on {n:,} numbers ≤ 200 ms end to end: {one * 1000:.0f} ms — {verdict}.")
        comp = big["stages"]["total"]
        verdict = "met" if comp <= 5 else f"MISSED by {comp - 5:.1f} s ({comp / 5:.1f}×)"
        out.append(f"- Full compile of {n:,} numbers ≤ 5 s (before Asterisk's load): {comp:.1f} s — {verdict}.")
        if n < 50000:
            out.append(f"- (The issue's targets are for 50,000 numbers; the largest size measured was {n:,}.)")
    return out


def _hot(r: dict[str, Any]) -> list[str]:
    out = []
    for ap in r.get("apply", []):
        for key, what in (("breakdown_one_change", "one-number change, by step"),
                          ("hot_one_change", "one-number change, by library"),
                          ("hot_compile", "compile stages, by library")):
            if ap.get(key):
                shares = ", ".join(f"{name} {share * 100:.0f} %" for name, share in ap[key])
                out.append(f"- {ap['numbers']:,} numbers, {what}: {shares}")
    return out


def write(r: dict[str, Any], out_dir: Path, workdir: Path | None = None) -> None:
    rows = _rows(r)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (tests/bench/run.py) on {r.get('started', '?')}, {r.get('machine', '?')}, "
        f"Asterisk {r.get('asterisk_version', '?')}; the run took {r.get('duration_s', 0) / 60:.1f} min. "
        "sipp, Asterisk, the carrier and the orchestrator share the same cores, so only the ratios to bare "
        "Asterisk measured in the same run mean much. `$SIP` is the private instance's SIP port.",
        "",
        "Bare Asterisk (a) is the same instance with `[svc-entry] exten => _X.,1,Dial(PJSIP/${EXTEN}@carrier)` as "
        "the only generated file; (b)–(d) swap in the generated files and reload, nothing else changes. "
        "Calls: 100 ms hold after answer, only 200 OK counts (tests/bench/caller.xml). Rates are stepped "
        "(all four configurations at one rate, then the next rate), with one step half-way after the first "
        "failure; a failed step is run once more, since the machine is shared. "
        "Ratios of apply figures are to a plain `dialplan reload` of the same files; of memory figures to "
        "bare Asterisk's VmRSS.",
        "",
        "| measurement | configuration | value | ratio to bare Asterisk | command |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    targets = _targets(r)
    if targets:
        lines += ["", "## Targets of issue 9", ""] + targets
    hot = _hot(r)
    if hot:
        lines += ["", "## Where the Python time goes (pyinstrument; shares of the profiled run)", "",
                  "By step: the functions `apply_document` calls, with everything below them. By library: self time "
                  "(C functions counted for their caller; waiting = the event loop idle, mostly on Asterisk). "
                  "Full profiles: `profiles/` in the run's folder.", ""] + hot
    flows = flow_section(r)
    if flows:
        lines += [""] + flows
    if r.get("errors"):
        lines += ["", "## Phases that failed in this run", ""]
        lines += [f"- {k}: `{v}`" for k, v in r["errors"].items()]
    if workdir is not None:
        lines += ["", f"Raw results, sipp statistics and profiles: `{workdir.relative_to(workdir.parents[1])}/` "
                  "(not committed)."]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
    chart(r, out_dir / "benchmarks.png")


def chart(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    keys = [c.key for c in CONFIGS]
    tp = r.get("throughput")
    ax = axes[0][0]
    if tp:
        ax.bar(keys, [tp["best"].get(k, 0) for k in keys], color=["grey", "C0", "C1", "C2"])
        ax.set_title(f"call throughput, 0 % failures for {tp['seconds']} s")
        ax.set_ylabel("calls/s")
    pdd = r.get("pdd")
    ax = axes[0][1]
    if pdd:
        ks = [k for k in keys if k in pdd["configs"]]
        xs = range(len(ks))
        ax.bar([x - 0.2 for x in xs], [pdd["configs"][k]["median_ms"] for k in ks], 0.4, label="median")
        ax.bar([x + 0.2 for x in xs], [pdd["configs"][k]["p99_ms"] for k in ks], 0.4, label="p99")
        ax.set_xticks(list(xs), ks)
        ax.set_title(f"post-dial delay at {pdd['rate']} calls/s")
        ax.set_ylabel("ms")
        ax.legend()
    applies = [ap for ap in r.get("apply", []) if "error" not in ap]
    ax = axes[1][0]
    if applies:
        ns = [ap["numbers"] for ap in applies]
        ax.plot(ns, [ap["plain_reload_s"] for ap in applies], "o-", color="grey", label="plain dialplan reload")
        ax.plot(ns, [ap["full"]["seconds"] for ap in applies], "o-", label="full generate + apply")
        ax.plot(ns, [ap["stages"]["total"] for ap in applies], "o--", label="compile (Python)")
        ax.plot(ns, [ap["one_change"]["seconds"] for ap in applies], "o-", label="one number changed")
        if all("centre_change" in ap for ap in applies):
            ax.plot(ns, [ap["centre_change"]["seconds"] for ap in applies], "s--", label="call centre changed")
        ax.axhline(0.2, color="red", lw=0.8, ls=":", label="200 ms target")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("service numbers")
        ax.set_ylabel("s")
        ax.set_title("apply time")
        ax.legend(fontsize=8)
    ax = axes[1][1]
    if applies:
        ns = [ap["numbers"] for ap in applies]
        ax.plot(ns, [ap["hwm_kb"] / 1024 for ap in applies], "o-", label="orchestrator (peak)")
        ax.plot(ns, [ap["asterisk_rss_kb"] / 1024 for ap in applies], "o-", label="Asterisk")
        if r.get("asterisk_bare_rss_kb"):
            ax.axhline(r["asterisk_bare_rss_kb"] / 1024, color="grey", ls=":", label="Asterisk, bare")
        ax.set_xscale("log")
        ax.set_xlabel("service numbers")
        ax.set_ylabel("MB")
        ax.set_title("resident memory")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)




# --- Premium call flows (issue 15): their own section, so `BENCH_ONLY=flows` can rewrite it alone --

FLOW_SECTION = "## Premium call flows (issue 15)"
FLOW_LABEL = {"a": "(a) bare Asterisk", "b": "(b) Basis number (generated)",
              "f": "(f) Premium flow: time, region, split, then dial",
              "g": "(g) Premium flow: time, region, time, then dial (no split)"}


def _flow_rows(fl: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    a = fl["pdd"].get("a", {})
    for k, p in fl["pdd"].items():
        cmd = f"`{p['command']}`"
        rows.append((f"post-dial delay, median ({fl['pdd_rate']} calls/s, {p['samples']} calls)", FLOW_LABEL[k],
                     f"{p['median_ms']:.2f} ms", _ratio(p["median_ms"], a.get("median_ms")), cmd))
        rows.append((f"post-dial delay, p99 ({fl['pdd_rate']} calls/s)", FLOW_LABEL[k],
                     f"{p['p99_ms']:.2f} ms (added {p['p99_ms'] - a.get('p99_ms', 0.0):+.2f} ms)",
                     _ratio(p["p99_ms"], a.get("p99_ms")), cmd))
    ka = fl["keys"].get("a", {})
    labels = {"a": "(a) bare Asterisk: Answer, Read(), Read()", "f": "(f) Premium flow: menu, menu"}
    for k, p in fl["keys"].items():
        cmd = f"{p['command']}"
        rows.append((f"key -> next prompt, median ({p['samples']} calls)", labels[k], f"{p['median_ms']:.2f} ms",
                     _ratio(p["median_ms"], ka.get("median_ms")), cmd))
        rows.append(("key -> next prompt, p99", labels[k],
                     f"{p['p99_ms']:.2f} ms (added {p['p99_ms'] - ka.get('p99_ms', 0.0):+.2f} ms)",
                     _ratio(p["p99_ms"], ka.get("p99_ms")), cmd))
    ch = fl.get("change")
    if ch:
        n, f = ch["numbers"], ch["flows"]
        cmd = f"`python -m {ch['command']}`"
        runs = ", ".join(f"{r['seconds'] * 1000:.0f}" for r in ch["flow_change"]["runs"])
        rows.append((f"full apply, {n:,} numbers on {f} flows", "end to end (`orchestrator apply plan.json`)",
                     f"{ch['full']['seconds']:.2f} s ({ch['full']['how']})", "—", cmd))
        rows.append((f"one flow changed, {n:,} numbers on {f} flows", "end to end (`orchestrator apply plan.json`)",
                     f"median {ch['flow_change']['median_s'] * 1000:.0f} ms (runs: {runs} ms; "
                     f"{ch['flow_change']['runs'][0]['how']})", "—", cmd))
        rows.append((f"one flow changed, {n:,} numbers on {f} flows", "Asterisk part (AMI: load the version, switch)",
                     f"median {ch['flow_change']['median_asterisk_s'] * 1000:.1f} ms", "—", cmd))
        pr = ch["priorities"]
        per_flow = pr["files"]["flows"] / f
        rows.append((f"dialplan priorities, {n:,} numbers on {f} flows", "`dialplan show` count",
                     f"{pr['priorities']:,} in {pr['contexts']:,} contexts: flows {pr['files']['flows']:,} "
                     f"({per_flow:.0f} per flow), numbers {pr['files']['numbers']:,} "
                     f"({pr['files']['numbers'] / n:.1f} per number), rest {pr['files']['other']:,}; "
                     f"a copy of the flow per number would add {n * per_flow:,.0f}", "—", f"`{pr['command']}`"))
    return rows


def _flow_targets(fl: dict[str, Any]) -> list[str]:
    out = []
    a = fl["pdd"].get("a")
    for k in ("f", "g"):
        if a is None or k not in fl["pdd"]:
            continue
        p = fl["pdd"][k]
        added = p["p99_ms"] - a["p99_ms"]
        # A p99 of bare Asterisk far above its median is a stall of the shared machine, not
        # Asterisk: then judge by the flow's p99 against bare Asterisk's median (an upper bound).
        bound = p["p99_ms"] - a["median_ms"]
        worst = max(added, bound) if a["p99_ms"] > 5 * a["median_ms"] else added
        verdict = "met" if worst <= 5 else f"MISSED by {worst - 5:.1f} ms"
        out.append(f"- Post-dial delay added by three decision blocks before the dial, p99 ≤ 5 ms ({k} against a): "
                   f"p99 {added:+.2f} ms, flow p99 minus bare median {bound:+.2f} ms, median "
                   f"{p['median_ms'] - a['median_ms']:+.2f} ms — {verdict}"
                   + (f" (bare Asterisk's p99 {a['p99_ms']:.1f} ms against its median {a['median_ms']:.1f} ms "
                      "was a machine stall, so the upper bound decides)" if worst != added else "") + ".")
    if "a" in fl["keys"] and "f" in fl["keys"]:
        added = fl["keys"]["f"]["p99_ms"] - fl["keys"]["a"]["p99_ms"]
        verdict = "met" if added <= 20 else f"MISSED by {added - 20:.1f} ms"
        out.append(f"- Key press -> next prompt, added latency p99 ≤ 20 ms: {added:+.2f} ms — {verdict}.")
    ch = fl.get("change")
    if ch:
        s = ch["flow_change"]["median_s"]
        verdict = "met" if s <= 0.2 else f"MISSED by {(s - 0.2) * 1000:.0f} ms ({s / 0.2:.1f}×)"
        out.append(f"- One flow change with {ch['numbers']:,} numbers on {ch['flows']} flows ≤ 200 ms end to end: "
                   f"median {s * 1000:.0f} ms — {verdict}.")
        pr = ch["priorities"]
        per_number = pr["files"]["numbers"] / ch["numbers"]
        flat = ch["numbers"] * pr["files"]["flows"] / ch["flows"]
        out.append(f"- Flows load once: the {pr['files']['flows']:,} priorities of the {ch['flows']} flows plus "
                   f"{per_number:.1f} per number (the entry checks and limits), not numbers × flow size "
                   f"({flat:,.0f} more) — met.")
    return out


def flow_section(r: dict[str, Any]) -> list[str]:
    fl = r.get("flows")
    if not fl:
        return []
    lines = [FLOW_SECTION, "",
             f"Measured on {r.get('started', '?')}, {r.get('machine', '?')} (`BENCH_ONLY=flows make bench`, "
             f"{fl['seconds']} s of calls per post-dial-delay configuration, in "
             f"{next(iter(fl['pdd'].values()), {}).get('rounds', 1)} rounds that take turns a, b, f, g, so a "
             "stall of the shared machine falls on every configuration alike). Key -> next prompt is "
             "Asterisk's own clock (AMI event "
             "timestamps): the DTMFEnd of the key to the next Read() starting; (a) answers the same calls with a "
             "hand-written two-Read() dialplan in the same run. (f)'s split takes a ticket without LOCK() "
             "(an AstDB counter and a GROUP() per ticket; LOCK() only when two live calls hold one ticket: "
             "func_lock parks the channel in autoservice, milliseconds even uncontended; docs/asterisk.md); "
             "`python -m tests.bench.pdd_trace 08009000001` shows where the time goes; (g) is the same flow with "
             "a second time block instead of the split."
             + (f" Load average after the call measurements: {fl['loadavg'][0]:.1f} (1 min) on "
                f"{r.get('machine', '?').split(': ')[-1].split(' cores')[0]} cores: the machine is shared, "
                "tails (p99) suffer first." if fl.get("loadavg") else ""), "",
             "| measurement | configuration | value | ratio to bare Asterisk | command |",
             "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _flow_rows(fl)]
    targets = _flow_targets(fl)
    if targets:
        lines += ["", "Targets of issue 15:", ""] + targets
    if r.get("errors", {}).get("flows"):
        lines += ["", f"The flow phase failed: `{r['errors']['flows']}`"]
    return lines


def write_flow_section(r: dict[str, Any], out_dir: Path, workdir: Path | None = None) -> None:
    """Replace (or add) the call-flow section of an existing BENCHMARKS.md; the rest stays."""
    path = out_dir / "BENCHMARKS.md"
    out_dir.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = flow_section(r) or [FLOW_SECTION, "", f"The flow phase failed: `{r.get('errors', {}).get('flows')}`"]
    if workdir is not None:
        section += ["", f"Raw results: `{workdir.relative_to(workdir.parents[1])}/` (not committed)."]
    start = text.find(FLOW_SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    else:
        end = text.find("\n## ", start + len(FLOW_SECTION))
        text = text[:start] + "\n".join(section) + "\n" + (text[end + 1:] if end >= 0 else "")
    path.write_text(text)


if __name__ == "__main__":
    results_file = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2]
    results = json.loads(results_file.read_text())
    if "flows" in results and not ({"throughput", "pdd", "premium", "apply", "reports"} & results.keys()):
        write_flow_section(results, out, results_file.parent)  # a `BENCH_ONLY=flows` run
    else:
        write(results, out, results_file.parent)
