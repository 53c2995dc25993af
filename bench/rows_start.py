"""Rows 5, 6, 7 and 10: start-up (validate, --help), the loader per check, the shipped run's drills."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from context import CLIENTS, SHIPPED, Setup, ratio_row
from generate import write_spec
from pairs import MeasureError, alternate, run_process
from servers import runbook_exe
from table import Goal, Row

WITHIN_1_5 = Goal("ratio", "<=", 1.5, "ratio <= 1.5")
FIVE_TIMES_CHEAPER = Goal("ratio", "<=", 0.2, "runbook >= 5x cheaper per check: ratio <= 0.2")
DRILL_MARGIN = Goal("margin_s", "<=", 1.0, "wall <= longest drill + 1.0 s")
IMPORT = "import httpx, pydantic"


def start_up(setup: Setup, key: str, command: list[str], what: str) -> list[Row]:
    """Rows 5 and 6: a runbook command as a whole process vs `python -c "import httpx, pydantic"`."""
    runbook = [runbook_exe(), *command]
    peer = [setup.python, "-c", IMPORT]
    pairs = alternate(lambda: run_process(runbook).wall, lambda: run_process(peer).wall, setup.pairs, setup.budget)
    return [ratio_row(key, what, (WITHIN_1_5,), pairs, setup, f'`python -c "{IMPORT}"` ')]


def validate(setup: Setup) -> list[Row]:
    what = "`runbook validate specs/cometapi/chat-completions.yaml` vs the import, whole processes"
    return start_up(setup, "5", ["validate", str(SHIPPED)], what)


def help_text(setup: Setup) -> list[Row]:
    return start_up(setup, "6", ["--help"], "`runbook --help` vs the import, whole processes")


def size_cap() -> int | None:
    """The loader's size cap, read from the engine (which another change may raise); None if unknown."""
    try:
        from engine.load.yaml_tree import MAX_SPEC_BYTES
    except ImportError:
        return None
    return int(MAX_SPEC_BYTES)


def loader(setup: Setup) -> list[Row]:
    """Row 7: engine.api.load of a generated spec vs ruamel's pure round-trip load, per check, in-process
    (each after an untimed load of a 1-check spec, so imports and first-use costs are not counted)."""
    many, few = setup.sizes.many_checks, setup.sizes.ruamel_checks
    what = f"loading a {many:,}-check spec, per check: engine.api.load vs ruamel YAML(typ='rt', pure=True).load"
    big, small, warm = write_spec(setup.work, many), write_spec(setup.work, few), write_spec(setup.work, 1)
    cap = size_cap()
    if cap is not None and big.stat().st_size > cap:
        reason = f"over the size cap ({big.stat().st_size:,} bytes > MAX_SPEC_BYTES {cap:,})"
        return [Row("7", what, (FIVE_TIMES_CHEAPER,), reason=reason)]

    def per_check(command: str, spec: Path, count: int) -> float:
        try:
            report = run_process([setup.python, str(CLIENTS), command, str(spec), "--warm", str(warm)]).report()
        except MeasureError as exc:
            if "a spec is at most" in str(exc):
                raise MeasureError(f"over the size cap ({exc})") from None
            raise
        if report["checks"] != count:
            raise MeasureError(f"{command} read {report['checks']} checks of {count}")
        return float(report["seconds"]) / count

    pairs = alternate(
        lambda: per_check("load-runbook", big, many),
        lambda: per_check("load-ruamel", small, few),
        setup.pairs,
        setup.budget,
    )
    row = ratio_row("7", what, (FIVE_TIMES_CHEAPER,), pairs, setup, "ruamel rt ")
    row.runbook, row.peer = f"{pairs.median_a * 1000:.3g} ms/check", f"ruamel rt {pairs.median_b * 1000:.3g} ms/check"
    if few != many:
        row.note = ", ".join(filter(None, [row.note, f"ruamel timed on the same generator's {few:,}-check text"]))
    return [row]


def longest_drill_ms(results: dict) -> float:
    """The longest drill of a run: the sum of its calls' elapsed_ms (a drill's calls run one after another)."""
    drills = [d.get("drill") or {} for d in results.get("drills", [])]
    durations = [sum(call.get("elapsed_ms") or 0.0 for call in d.get("calls", [])) for d in drills]
    if not durations:
        raise MeasureError("the run's results have no drill durations (drills[].drill.calls[].elapsed_ms)")
    return max(durations)


def shipped_run(setup: Setup) -> list[Row]:
    """Row 10: `runbook run` of the shipped spec on its simulator target, wall vs its longest drill."""
    out = setup.work / "shipped"
    longest: list[float] = []
    margins: list[float] = []

    def run() -> float:
        argv = [runbook_exe(), "run", str(SHIPPED), "--out", str(out), "--quiet"]
        wall = run_process(argv, setup.env(), ok_codes=(0, 1, 4)).wall
        results = json.loads((out / "cometapi-chat-completions.json").read_text(encoding="utf-8"))
        longest.append(longest_drill_ms(results) / 1000)
        margins.append(wall - longest[-1])
        return wall

    pairs = alternate(run, lambda: longest[-1], setup.pairs, setup.budget)
    what = "the shipped run (`runbook run specs/cometapi/chat-completions.yaml`, sim target): whole-process wall vs its longest drill"
    row = ratio_row("10", what, (DRILL_MARGIN,), pairs, setup, "longest drill ")
    row.figures["margin_s"] = statistics.median(margins)
    row.note = ", ".join(filter(None, [row.note, f"margin {row.figures['margin_s']:.2f} s"]))
    return [row]
