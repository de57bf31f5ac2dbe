"""Web latency benchmark: p50/p95 of the main pages under 20 concurrent clients on loopback.

Not part of the test suite. It builds a large scenario case exactly as ``palermo demo`` does
(generate, build the case, ingest every exhibit, analyse), starts ``palermo serve`` in a separate
process (so the load generator does not share the server's interpreter), signs in 20 clients
(each its own session; sign-in is deliberately slow, argon2id, so it is done before the clock
starts), and has each fetch the main pages in turn with ``httpx`` (async) for a number of rounds,
back to back or with a think time between requests. Target: p95 < 200 ms per page.

    python -m benchmarks.web_latency --workspace /tmp/web-bench --scale 3500 --rounds 10

Building a 100 k-entity case takes ~10 minutes, so ``--workspace DIR`` keeps it: the first run builds
the case into ``DIR`` (and records the case ref and the benchmark login in ``DIR/bench.json``, mode
0600; synthetic data only); later runs with the same ``DIR`` skip the build and only re-run the load.
``--build-only`` stops after the build; ``--url`` loads a server that is already running (for
instance one under a profiler) instead of starting one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PAGES = [
    "/cases",
    "/cases/{ref}",
    "/cases/{ref}/proof",
    "/cases/{ref}/evidence",
    "/cases/{ref}/network",
    "/api/v1/cases/{ref}/network",
    "/cases/{ref}/timeline",
    "/cases/{ref}/calculators",
    "/law",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(folder: Path, scale: float, seed: int) -> tuple[Path, str, str, str, dict[str, float]]:
    """Build the case; returns workspace path, case ref, user, password and timings."""
    from palermo.cli.demo import build_demo

    started = time.perf_counter()
    made = build_demo(folder, seed=seed, scale=scale)
    built = time.perf_counter() - started
    import duckdb

    with duckdb.connect(str(made.workspace.path / "analytics.duckdb"), read_only=True) as con:
        entities = con.execute("SELECT count(*) FROM entities").fetchone()[0]  # type: ignore[index]
        edges = con.execute("SELECT count(*) FROM edges").fetchone()[0]  # type: ignore[index]
    path = made.workspace.path
    made.workspace.close()
    return (
        path,
        made.case_ref,
        made.username,
        made.password,
        {"build_s": built, "entities": float(entities), "edges": float(edges)},
    )


async def _sign_in(base: str, user: str, password: str) -> httpx.AsyncClient:
    """A client with its own signed-in session (the login form's token, then the POST)."""
    client = httpx.AsyncClient(base_url=base, timeout=60)
    form = await client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token, "no login form"
    done = await client.post(
        "/login", data={"username": user, "password": password, "login_token": token.group(1)}
    )
    assert done.status_code in (200, 303), done.text[:200]
    return client


async def _visit(
    client: httpx.AsyncClient,
    paths: list[str],
    rounds: int,
    out: dict[str, list[float]],
    errors: list[str],
    think_s: float = 0.0,
) -> None:
    for _ in range(rounds):
        for path in paths:
            t0 = time.perf_counter()
            response = await client.get(path)
            out[path].append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                errors.append(f"{path}: {response.status_code}")
            if think_s:
                await asyncio.sleep(think_s * (0.5 + random.random()))


async def load(
    base: str, user: str, password: str, ref: str, clients: int, rounds: int, think_s: float
) -> tuple[dict[str, list[float]], list[str], float]:
    """Sign every client in first (argon2 is slow on purpose), then time only the page loads."""
    paths = [p.format(ref=ref) for p in PAGES]
    out: dict[str, list[float]] = {p: [] for p in paths}
    errors: list[str] = []
    signed_in = [await _sign_in(base, user, password) for _ in range(clients)]
    try:
        # Warm up once (first DuckDB reads, template compilation) so the figures are steady state;
        # the first visit's times are printed too: they are what the first person after a start
        # (or after a new import or analysis) waits for.
        cold: dict[str, list[float]] = {p: [] for p in paths}
        await _visit(signed_in[0], paths, 1, cold, [])
        times = ", ".join(f"{p} {v[0]:.0f}" for p, v in cold.items())
        print(f"warm-up visit ms (cold on the first pattern after a start): {times}", flush=True)
        started = time.perf_counter()
        await asyncio.gather(*(_visit(c, paths, rounds, out, errors, think_s) for c in signed_in))
        return out, errors, time.perf_counter() - started
    finally:
        for c in signed_in:
            await c.aclose()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=2000.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--think-ms",
        default="0,1000",
        help="comma-separated pauses between a client's requests (0 = back-to-back)",
    )
    parser.add_argument("--workspace", type=Path, help="keep (or reuse) the built case in this folder")
    parser.add_argument("--build-only", action="store_true", help="build the case and exit")
    parser.add_argument("--url", help="load this running server instead of starting one")
    args = parser.parse_args()

    path, ref, user, password = prepare(args)
    if args.build_only:
        return

    if args.url:  # a server already running (e.g. under a profiler)
        for think in [float(t) / 1000 for t in args.think_ms.split(",")]:
            out, errors, wall = asyncio.run(
                load(args.url, user, password, ref, args.clients, args.rounds, think)
            )
            report(args, think, out, errors, wall)
        return
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "palermo.cli.main", "serve", str(path), "--port", str(port)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        for think in [float(t) / 1000 for t in args.think_ms.split(",")]:
            out, errors, wall = asyncio.run(load(base, user, password, ref, args.clients, args.rounds, think))
            report(args, think, out, errors, wall)
    finally:
        server.terminate()
        server.wait(timeout=20)


def prepare(args: argparse.Namespace) -> tuple[Path, str, str, str]:
    """Build the case (or reuse the one kept in ``--workspace``); returns path, case ref and login."""
    tmp = args.workspace or Path(tempfile.mkdtemp(prefix="palermo-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["PALERMO_MASTER_KEY_FILE"] = str(tmp / "keys" / "master.key")
    info_file = tmp / "bench.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
        print(
            f"reusing case {info['ref']} in {info['path']} (scale {info['scale']:g}): "
            f"{info['entities']:.0f} entities, {info['edges']:.0f} edges",
            flush=True,
        )
    else:
        path, ref, user, password, facts = build(tmp / "ws", args.scale, args.seed)
        info = {"path": str(path), "ref": ref, "user": user, "password": password, "scale": args.scale}
        info.update(facts)
        info_file.touch(mode=0o600)
        info_file.write_text(json.dumps(info, indent=2))
        print(
            f"built case {ref} at scale {args.scale:g} in {facts['build_s']:.1f} s: "
            f"{facts['entities']:.0f} entities, {facts['edges']:.0f} edges",
            flush=True,
        )
    print(f"login: {info['user']} / {info['password']}  (workspace {info['path']})", flush=True)
    return Path(info["path"]), info["ref"], info["user"], info["password"]


def report(
    args: argparse.Namespace, think: float, out: dict[str, list[float]], errors: list[str], wall: float
) -> None:
    """Print p50/p95 per page and over all pages for one load pattern."""
    everything = [v for values in out.values() for v in values]
    print(
        f"\n{args.clients} concurrent clients x {args.rounds} rounds, {len(everything)} requests "
        f"in {wall:.1f} s ({len(everything) / wall:.0f} req/s); errors: {len(errors)}"
    )
    print(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8}")
    for page, values in out.items():
        print(f"{page:45} {statistics.median(values):8.1f} {_pct(values, 0.95):8.1f}")
    print(f"{'all pages':45} {statistics.median(everything):8.1f} {_pct(everything, 0.95):8.1f}")
    if errors:
        print("errors:", sorted(set(errors))[:10])


if __name__ == "__main__":
    main()
