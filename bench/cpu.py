"""CPU per request, in-process: OpenMira's ASGI app called directly (no sockets, no wrk), one request at a
time, measured as the process's CPU time. Steadier than req/s on a shared machine, and the figure the
hot-path work was steered by (issue 11); ``--openmira-src`` measures another checkout in the same run.

    python -m bench.cpu --backends sqlite,postgres --ops list,finding,details,msp_all,token
    python -m bench.cpu --openmira-src /path/to/baseline/src      # before and after, side by side

Each figure is the smallest of five batches' mean CPU time per request (the least disturbed by the other
work on the machine), after 50 requests of warm-up. One process per (checkout, backend, operation).

``--instructions`` counts instead the machine instructions per request, under valgrind's callgrind, which
counts the same for the same work whatever else the machine is doing: the figure for an A/B of a change
smaller than the machine's noise (30x slower to take; callgrind instruments only the measured requests).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

from bench.databases import BACKENDS, database
from bench.dataset import build
from bench.servers import REPO

OPERATIONS = ("list", "list_3_filters", "finding", "details", "msp_all", "msp_finding", "token", "comment")
API = "/public-api/v1"
REFERENCE_OPERATIONS = ("list", "finding")  # what bench/reference.py serves


def _paths(finding_id: str, org_id: str) -> dict[str, str]:
    return {
        "list": f"{API}/org/findings?page_size=50",
        "list_3_filters": f"{API}/org/findings?page_size=50&status=40&priority.in=1,2,3&blocked=false",
        "finding": f"{API}/org/findings/{finding_id}",
        "details": f"{API}/org/findings/{finding_id}/details",
        "msp_all": f"{API}/msp/accounts/findings?page_size=50",
        "msp_finding": f"{API}/msp/accounts/{org_id}/findings/{finding_id}",
        "token": "/oauth/token",
        "comment": f"{API}/org/findings/{finding_id}/comments",
    }


async def _measure(args: dict[str, Any]) -> float:
    """In the child process: the smallest mean CPU seconds per request over five batches."""
    import gc
    import sys
    import time

    import httpx

    from openmira import app as openmira_app

    # Built as a server process builds it (serve_app: the built app frozen out of the collector), or, for a
    # baseline checkout older than serve_app, as it was then served.
    app = getattr(openmira_app, "serve_app", openmira_app.create_app)()
    async with app.router.lifespan_context(app) as state:  # a server hands each request the lifespan's state
        pair = args["msp_pair"] if args["op"].startswith("msp_") else args["org_pair"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            grant = {"grant_type": "client_credentials", **pair}
            token = (await client.post("/oauth/token", json=grant)).json()["access_token"]
        path = _paths(args["finding_id"], args["org_id"])[args["op"]]
        if args.get("reference"):
            from bench.reference import app as reference  # reads the same OPENMIRA_* environment

            app = reference  # the token comes from OpenMira, as a client's would
        if args["op"] == "token":
            body = json.dumps({"grant_type": "client_credentials", **args["token_pair"]}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            method = "POST"
        elif args["op"] == "comment":
            body = json.dumps({"body": "<p>Checked the host; benign scheduled task.</p>", "sender": args["sender_id"]})
            body, method = body.encode(), "POST"
            headers = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json"),
                       (b"content-length", str(len(body)).encode())]
        else:
            body, method = b"", "GET"
            headers = [(b"authorization", f"Bearer {token}".encode())]
        route, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": route, "raw_path": route.encode(), "query_string": query.encode(), "root_path": "",
            "headers": [(b"host", b"bench"), *headers], "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 80), "state": dict(state or {}),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        statuses: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        async def one() -> None:
            await app({**scope, "state": dict(scope["state"])}, receive, send)

        for _ in range(50):
            await one()
        if args.get("instructions"):  # the parent turns callgrind's counting on and off around the requests
            # A full collection over the app's long-lived objects costs as much as dozens of requests; whether
            # one falls inside the measured requests or not moved the count by 10% between runs. Collected
            # now and frozen, those objects are left out of the collections that the requests' own garbage
            # still triggers.
            gc.collect()
            gc.freeze()
            print("ready", flush=True)
            sys.stdin.readline()
            for _ in range(args["requests"]):
                await one()
            print("done", flush=True)
            sys.stdin.readline()
            return 0.0
        profiler = None
        if args.get("profile"):  # the measured requests only, after the warm-up
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        batches = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(args["requests"] // 5):
                await one()
            batches.append((time.process_time() - started) / (args["requests"] // 5))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args["profile"])
        bad = [s for s in statuses if s >= 300]
        if bad:
            raise RuntimeError(f"{args['op']}: {len(bad)} answers were not 2xx (first {bad[0]})")
        return min(batches)


def _child(src: str | None, database_url: str, args: dict[str, Any]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    env.update(
        OPENMIRA_DATABASE_URL=database_url, OPENMIRA_RATE_LIMIT="100000", OPENMIRA_MSP_RATE_LIMIT="100000",
        OPENMIRA_LOG_LEVEL="warning",
        OPENMIRA_WEBHOOK_WORKER="false", OPENMIRA_AGENT_COMMAND_INTERVAL="0",
        PYTHONPATH=os.pathsep.join([*([src] if src else []), str(REPO)]),
    )
    code = (
        "import asyncio, json, sys; from bench.cpu import _measure; "
        "print(asyncio.run(_measure(json.loads(sys.argv[1]))))"
    )
    command = [sys.executable, "-c", code, json.dumps(args)]
    if args.get("instructions"):
        env["PYTHONHASHSEED"] = "0"  # the same dict layouts in every run
        return _instructions(command, env) / args["requests"]
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {args['op']} failed:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def _instructions(command: list[str], env: dict[str, str]) -> float:
    """Instructions the child runs between its "ready" and its "done", counted by callgrind (which the parent
    turns on and off there with callgrind_control, so start-up and warm-up run uninstrumented and fast)."""
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null"]
    proc = subprocess.Popen(
        [*valgrind, *command], env=env, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def step(expected: str, instrumentation: str) -> None:
        line = proc.stdout.readline().strip()
        if line != expected:
            proc.kill()
            raise RuntimeError(f"measuring failed (child said {line!r}):\n{proc.communicate()[1][-3000:]}")
        subprocess.run(["callgrind_control", "-i", instrumentation, str(proc.pid)], capture_output=True, check=True)
        proc.stdin.write("\n")
        proc.stdin.flush()

    step("ready", "on")
    step("done", "off")
    _, stderr = proc.communicate()
    collected = re.search(r"Collected : (\d+)", stderr)
    if proc.returncode != 0 or collected is None:
        raise RuntimeError(f"measuring failed:\n{stderr[-3000:]}")
    return float(collected.group(1))


def _profile_path(folder: str | None, backend: str, op: str, src: str | None) -> str | None:
    if folder is None:
        return None
    os.makedirs(folder, exist_ok=True)
    return os.path.abspath(os.path.join(folder, f"{backend}-{op}{'-other' if src else ''}.pstats"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres [both]")
    p.add_argument("--ops", default=",".join(OPERATIONS), help=f"operations [{','.join(OPERATIONS)}]")
    p.add_argument("--findings", type=int, default=10_000, help="findings in the organization [10000]")
    p.add_argument("--requests", type=int, default=1_000, help="measured requests per figure [1000]")
    p.add_argument(
        "--instructions", action="store_true",
        help="count instructions per request under valgrind's callgrind instead of CPU time (repeatable)",
    )
    p.add_argument("--openmira-src", help="also measure OpenMira from this src folder (e.g. a baseline)")
    p.add_argument(
        "--no-reference", action="store_true",
        help="skip the hand-written reference (bench/reference.py), measured for the list and the finding",
    )
    p.add_argument(
        "--profile", metavar="DIR",
        help="also write a cProfile of each measured figure to DIR/<backend>-<operation>[-other].pstats "
        "(read it with python -m pstats; profiling slows the figures down; the main thread only, so work in "
        "database threads is missing; not with --instructions)",
    )
    p.add_argument(
        "--pg-url", default=os.environ.get("OPENMIRA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
    )
    options = p.parse_args(argv)
    backends = [b for b in options.backends.split(",") if b]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        p.error(f"unknown backend: {', '.join(unknown)}")
    if options.instructions and not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        p.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    unit = "instructions/request (thousands)" if options.instructions else "CPU ms/request"
    scale = 1e-3 if options.instructions else 1000
    sources = [("this checkout", None)] + ([("--openmira-src", options.openmira_src)] if options.openmira_src else [])
    columns = [f"{name}: {unit}" for name, _ in sources] + (["this / other"] if len(sources) > 1 else [])
    if not options.no_reference:
        columns += [f"reference: {unit}", "reference / this"]
    print("| backend | operation | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for backend in backends:
        with database(backend, options.pg_url) as url:
            dataset = build(url, options.findings, 1)
            args = {
                "org_pair": dataset.org_pair.__dict__, "msp_pair": dataset.msp_pair.__dict__,
                "token_pair": dataset.token_pair.__dict__, "finding_id": str(dataset.finding_id),
                "sender_id": str(dataset.sender_id), "org_id": str(dataset.org_id),
                "requests": options.requests, "instructions": options.instructions,
            }
            for op in options.ops.split(","):
                figures = [
                    _child(src, url, {**args, "op": op, "profile": _profile_path(options.profile, backend, op, src)})
                    * scale
                    for _, src in sources
                ]
                cells = [f"{f:.3f}" for f in figures]
                if len(figures) > 1:
                    cells.append(f"{figures[0] / figures[1]:.2f}x")
                if not options.no_reference:
                    if op in REFERENCE_OPERATIONS:
                        reference = _child(None, url, {**args, "op": op, "reference": True}) * scale
                        cells += [f"{reference:.3f}", f"{reference / figures[0]:.0%}"]
                    else:
                        cells += ["", ""]
                print(f"| {backend} | {op} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
