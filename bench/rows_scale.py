"""Rows 8, 9 and 11: 10,000 checks in one run, a large SSE stream, and the reports of 10,000 results.

Peak RSS is each child's own (os.wait4). Row 11 re-renders the results JSON row 8's run wrote.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from context import CLIENTS, SSE, Setup, megabytes, pairs_note, runbook_run, seconds
from generate import write_spec
from pairs import MeasureError, Pairs, Run, alternate, run_process
from servers import stream_server
from table import Goal, Row

UNDER_10_S = Goal("wall_s", "<", 10.0, "< 10 s")
UNDER_150_MB = Goal("peak_mb", "<", 150.0, "< 150 MB peak RSS")
PER_CHECK = Goal("bytes_per_check", text="informative: (peak at 10,000 - peak at 1,000) / 9,000")
SSE_FASTER = Goal("ratio", "<=", 0.77, "runbook >= 1.3x faster: ratio <= 0.77")
SSE_FLAT = Goal("growth_mb", "<=", 20.0, "flat: <= 20 MB over the small stream's peak")
HTML_SMALL = Goal("html_mb", "<", 10.0, "< 10 MB")
RENDER_FAST = Goal("render_s", "<", 2.0, "< 2 s")


def many_checks(setup: Setup) -> tuple[list[Row], Path | None]:
    """Row 8: N checks in one spec vs 1,000, whole `runbook run` processes against the simulator."""
    many, few = setup.sizes.many_checks, setup.sizes.checks
    big, small = write_spec(setup.work, many), write_spec(setup.work, few)
    out_big, out_small = setup.work / f"run-{many}", setup.work / f"run-{few}-scale"
    runs: dict[str, list[Run]] = {"big": [], "small": []}
    sim = setup.simulator.base_url()

    def run(which: str, spec: Path, count: int, out: Path) -> float:
        runs[which].append(runbook_run(setup, spec, count, sim, out))
        return runs[which][-1].wall

    pairs = alternate(
        lambda: run("big", big, many, out_big), lambda: run("small", small, few, out_small), setup.pairs, setup.budget
    )
    peaks = Pairs([r.peak_mb for r in runs["big"]], [r.peak_mb for r in runs["small"]])
    return _scale_rows(setup, pairs, peaks), out_big / f"bench-{many}-checks.json"


def _scale_rows(setup: Setup, walls: Pairs, peaks: Pairs) -> list[Row]:
    many, few = setup.sizes.many_checks, setup.sizes.checks
    per_check = (peaks.median_a - peaks.median_b) * 1024 * 1024 / (many - few)
    figures = {"wall_s": walls.median_a, "peak_mb": peaks.median_a, "bytes_per_check": per_check}
    scaled = setup.full_size_only(f"{many:,} checks")
    common = {"figures": figures, "pairs": len(walls), "pairs_needed": setup.pairs, "full_size_only": scaled}
    what = f"{many:,} checks in one spec, whole-process `runbook run` against the simulator"
    wall = (seconds(walls.median_a), f"{few:,} checks {seconds(walls.median_b)}", walls.ratio)
    peak = (megabytes(peaks.median_a), f"{few:,} checks {megabytes(peaks.median_b)}", peaks.ratio)
    note = pairs_note(walls, setup)
    return [
        Row("8a", what + ": wall", (UNDER_10_S,), *wall, note=note, samples={"a": walls.a, "b": walls.b}, **common),
        Row(
            "8b", what + ": peak RSS", (UNDER_150_MB,), *peak, note=note, samples={"a": peaks.a, "b": peaks.b}, **common
        ),
        Row("8c", "bytes per check, from the peaks of 8b", (PER_CHECK,), f"{per_check:,.0f} bytes/check", **common),
    ]


def sse(setup: Setup) -> list[Row]:
    """Row 9: the stream judged by runbook vs httpx-sse + json.loads, same loopback stream; memory."""
    what = (
        f"a {setup.sizes.sse_mb:g} MB SSE stream judged: runbook's stream judge vs httpx-sse + json.loads, in-process"
    )
    missing = setup.missing_peer("httpx_sse")
    if missing:
        return [Row("9a", what, (SSE_FASTER,), reason=missing), Row("9b", "SSE memory", (SSE_FLAT,), reason=missing)]
    peaks: list[float] = []

    def judged(python: str, name: str, url: str) -> float:
        run = run_process([python, str(SSE), "judge", name, url])
        if name == "runbook":
            peaks.append(run.peak_mb)
        return float(run.report()["seconds"])

    with stream_server(setup.sizes.sse_mb) as server:
        pairs = alternate(
            lambda: judged(setup.python, "runbook", server.base_url),
            lambda: judged(str(setup.peers), "httpx-sse", server.base_url),
            setup.pairs,
            setup.budget,
        )
    small_peak = statistics.median(peaks)
    with stream_server(setup.sizes.sse_memory_mb) as server:
        big_took = judged(setup.python, "runbook", server.base_url)
    mb = setup.sizes.sse_mb
    speeds = (f"{mb / pairs.median_a:.1f} MB/s", f"httpx-sse {mb / pairs.median_b:.1f} MB/s", pairs.ratio)
    note = pairs_note(pairs, setup, "ratio of seconds")
    row = Row("9a", what, (SSE_FASTER,), *speeds, {"ratio": pairs.ratio}, len(pairs), setup.pairs, note=note)
    row.samples = {"a": pairs.a, "b": pairs.b}
    return [row, _sse_memory_row(setup, peaks[-1], small_peak, big_took)]


def _sse_memory_row(setup: Setup, big_peak: float, small_peak: float, big_took: float) -> Row:
    mb, memory_mb = setup.sizes.sse_mb, setup.sizes.sse_memory_mb
    growth = big_peak - small_peak
    return Row(
        "9b",
        f"SSE memory: peak RSS of runbook's judge over a {memory_mb:g} MB stream vs a {mb:g} MB one",
        (SSE_FLAT,),
        megabytes(big_peak),
        f"{mb:g} MB stream {megabytes(small_peak)}",
        big_peak / small_peak,
        {"growth_mb": growth},
        pairs=1,
        pairs_needed=1,
        full_size_only=setup.full_size_only(f"{memory_mb:g} MB"),
        note=f"{growth:+.1f} MB; one {memory_mb:g} MB run at {memory_mb / big_took:.1f} MB/s",
    )


def reports(setup: Setup, results: Path | None) -> list[Row]:
    """Row 11: re-render the reports of row 8's results (html, md, json) vs json.load of that file."""
    what = f"the reports of {setup.sizes.many_checks:,} results"
    if results is None or not results.exists():
        reason = "row 8 wrote no results to render"
        return [
            Row("11a", what + ": HTML size", (HTML_SMALL,), reason=reason),
            Row("11b", what, (RENDER_FAST,), reason=reason),
        ]
    out = setup.work / "rerendered"
    sizes: list[float] = []

    def render() -> float:
        report = run_process([setup.python, str(CLIENTS), "render", str(results), str(out)]).report()
        if report.get("html_bytes") is None:
            raise MeasureError("the re-render wrote no HTML report")
        sizes.append(report["html_bytes"] / 1024 / 1024)
        return float(report["seconds"])

    def load() -> float:
        return float(run_process([setup.python, str(CLIENTS), "json-load", str(results)]).report()["seconds"])

    pairs = alternate(render, load, setup.pairs, setup.budget)
    html_mb, json_mb = statistics.median(sizes), results.stat().st_size / 1024 / 1024
    figures = {"html_mb": html_mb, "render_s": pairs.median_a}
    scaled = setup.full_size_only(f"{setup.sizes.many_checks:,} results")
    common = {"figures": figures, "pairs": len(pairs), "pairs_needed": setup.pairs, "full_size_only": scaled}
    samples = {"a": pairs.a, "b": pairs.b}
    size = (megabytes(html_mb), f"results JSON {megabytes(json_mb)}", html_mb / json_mb)
    took = (seconds(pairs.median_a), f"json.load {seconds(pairs.median_b)}", pairs.ratio)
    render_what = what + ": time to write html, md and json (engine.api.rerender), in-process"
    return [
        Row("11a", what + ": HTML file size", (HTML_SMALL,), *size, **common),
        Row("11b", render_what, (RENDER_FAST,), *took, note=pairs_note(pairs, setup), samples=samples, **common),
    ]
