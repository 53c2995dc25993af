"""The programs the bench times, each run in its own process; each prints one JSON line last.

    python bench/clients.py loop URL --count 1000 --concurrency 16 [--option httpx|sniffio-blocked|...]
    python bench/clients.py executor SPEC URL --concurrency 16      (runbook's executor, in-process)
    python bench/clients.py load-runbook SPEC [--warm SMALL]  |  load-ruamel SPEC [--warm SMALL]
    python bench/clients.py render RESULTS.json OUT_DIR  |  json-load RESULTS.json

`seconds` is timed inside the process around the work alone (imports and set-up excluded); the
bench times whole processes itself. Only `executor`, `load-runbook` and `render` import runbook, so
the HTTP options also run under the peers' venv (.venv-bench).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.abc
import importlib.machinery
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

KEY = "sk-bench-0123456789abcdef"  # the key the bench's servers accept (servers.KEY)
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}
HEADERS = {"authorization": f"Bearer {KEY}"}
OPTIONS = ("httpx", "sniffio-blocked", "httpx-aiohttp", "aiohttp", "httpx2")


class BlockSniffio(importlib.abc.MetaPathFinder):
    """`import sniffio` fails as it does where sniffio is not installed, after the same path search."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "sniffio" or name.startswith("sniffio."):
            importlib.machinery.PathFinder.find_spec("sniffio_not_installed", path)  # what a real miss costs
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def checked(document: dict[str, Any]) -> None:
    if document["choices"][0]["message"]["content"] is None:
        raise SystemExit(f"no content in {document}")


async def workers(count: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            await one()

    shares = [count // concurrency + (n < count % concurrency) for n in range(concurrency)]
    await asyncio.gather(*(worker(share) for share in shares if share))


Loop = Callable[[int, int], Awaitable[None]]  # (count, concurrency) -> the requests, checked


def httpx_runner(url: str, option: str) -> Loop:
    """The httpx-API loop of `option`, imported now so that no import is timed."""
    if option == "httpx2":
        import httpx2 as httpx
    else:
        import httpx
    make_transport: Any = None
    if option == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        make_transport = AiohttpTransport

    async def run(count: int, concurrency: int) -> None:
        transport = make_transport(trust_env=False) if make_transport else None
        async with httpx.AsyncClient(trust_env=False, transport=transport, timeout=60) as client:

            async def one() -> None:
                response = await client.post(url, json=BODY, headers=HEADERS)
                if response.status_code != 200:
                    raise SystemExit(f"status {response.status_code}: {response.text[:200]}")
                checked(response.json())

            await workers(count, concurrency, one)

    return run


def aiohttp_runner(url: str) -> Loop:
    import aiohttp

    async def run(count: int, concurrency: int) -> None:
        async with aiohttp.ClientSession(trust_env=False) as session:

            async def one() -> None:
                async with session.post(url, json=BODY, headers=HEADERS) as response:
                    if response.status != 200:
                        raise SystemExit(f"status {response.status}: {(await response.text())[:200]}")
                    checked(await response.json())

            await workers(count, concurrency, one)

    return run


def loop(args: argparse.Namespace) -> dict[str, Any]:
    """One untimed request on its own client first (first-use costs; --cold: none), then the timed loop."""
    if args.option == "sniffio-blocked":
        sys.meta_path.insert(0, BlockSniffio())
    url = args.url.rstrip("/") + "/v1/chat/completions"
    run = aiohttp_runner(url) if args.option == "aiohttp" else httpx_runner(url, args.option)
    if not args.cold:
        asyncio.run(run(1, 1))
    started = time.perf_counter()
    asyncio.run(run(args.count, args.concurrency))
    return {"seconds": time.perf_counter() - started, "requests": args.count, "sniffio": _importable("sniffio")}


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def executor(args: argparse.Namespace) -> dict[str, Any]:
    """runbook's own executor and check judge, as `runbook run` drives them, timed without load and plan
    (and after one untimed check, as the loops make one untimed request)."""
    from engine import api
    from engine.judge.checks import judge_check
    from engine.run.executor import execute_plan
    from engine.run.targets import target_endpoint

    environ = {"BENCH_BASE_URL": args.url, "BENCH_API_KEY": KEY}
    plan = api.plan(Path(args.spec), target="bench", environ=environ)
    with target_endpoint(plan, environ) as started:
        warm = dataclasses.replace(plan, steps=plan.steps[:1], drills=())  # untimed, like the loops' first request
        judge_check(execute_plan(warm, started.base_url, started.secrets, 1).outcomes[0], plan.spec, started.base_url)
        begun = time.perf_counter()
        record = execute_plan(plan, started.base_url, started.secrets, args.concurrency)
        results = [judge_check(outcome, plan.spec, started.base_url) for outcome in record.outcomes]
        seconds = time.perf_counter() - begun
    failed = [result.id for result in results if result.status != "passed"]
    if failed or len(results) != len(plan.steps):
        raise SystemExit(f"{len(failed)} of {len(results)} checks did not pass, e.g. {failed[:3]}")
    return {"seconds": seconds, "requests": len(results)}


def load_runbook(args: argparse.Namespace) -> dict[str, Any]:
    """The cost of a spec's checks: after an untimed load of --warm (a 1-check spec), imports and all."""
    from engine import api

    environ = {"BENCH_BASE_URL": "http://127.0.0.1:9", "BENCH_API_KEY": KEY}
    if args.warm:
        api.load(Path(args.warm), environ=environ)
    started = time.perf_counter()
    loaded = api.load(Path(args.spec), environ=environ)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "checks": len(loaded.spec.checks)}


def load_ruamel(args: argparse.Namespace) -> dict[str, Any]:
    from ruamel.yaml import YAML

    text = Path(args.spec).read_text(encoding="utf-8")
    if args.warm:
        YAML(typ="rt", pure=True).load(Path(args.warm).read_text(encoding="utf-8"))
    started = time.perf_counter()
    document = YAML(typ="rt", pure=True).load(text)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "checks": len(document["checks"])}


def render(args: argparse.Namespace) -> dict[str, Any]:
    from engine import api

    started = time.perf_counter()
    written = api.rerender(Path(args.results), Path(args.out), ["html", "md", "json"])
    seconds = time.perf_counter() - started
    html = [path for path in written if path.suffix == ".html"]
    return {"seconds": seconds, "html_bytes": html[0].stat().st_size if html else None}


def json_load(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    with open(args.results, encoding="utf-8") as file:
        document = json.load(file)
    return {"seconds": time.perf_counter() - started, "checks": len(document.get("checks", []))}


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = options.add_subparsers(dest="command", required=True)
    http = commands.add_parser("loop")
    http.add_argument("url")
    http.add_argument("--count", type=int, default=1000)
    http.add_argument("--concurrency", type=int, default=1)
    http.add_argument("--option", choices=OPTIONS, default="httpx")
    http.add_argument("--cold", action="store_true", help="no untimed first request (for whole-process timing)")
    run = commands.add_parser("executor")
    run.add_argument("spec")
    run.add_argument("url")
    run.add_argument("--concurrency", type=int, default=16)
    for name in ("load-runbook", "load-ruamel"):
        load = commands.add_parser(name)
        load.add_argument("spec")
        load.add_argument("--warm", help="a small spec loaded first, untimed")
    out = commands.add_parser("render")
    out.add_argument("results")
    out.add_argument("out")
    commands.add_parser("json-load").add_argument("results")
    return options


COMMANDS = {
    "loop": loop,
    "executor": executor,
    "load-runbook": load_runbook,
    "load-ruamel": load_ruamel,
    "render": render,
    "json-load": json_load,
}


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    print(json.dumps(COMMANDS[args.command](args)), flush=True)


if __name__ == "__main__":
    main()
