"""Interleaved pairs: the raw durable hop (A) and the services (B) measured one after the other,
A B A B …, each pair from the same starting state, so that every ratio is the median of the
pairs' own ratios, with its spread, and the CPU per message beside it.

Two stacks of the four services run side by side (only one is ever driven at a time): one on
empty databases, one on databases preloaded with `--preload` cases and their open referrals.
Each pair measures the baseline hop, then on the empty stack each service's one-hop flood and
the event chain (plan.agreed.v1 → referrals → reporting), then the same event chain on the
preloaded stack.

The same starting state for each pair: the baseline's tables truncated, every database of the
run vacuumed and analysed (this server runs with autovacuum off, so without it the planner's
statistics and the visibility map lag behind what earlier pairs wrote), a CHECKPOINT (so that
no pair starts with the last one's dirty pages still to write, nor pays for full-page images
the one before did not), and a warm-up of the baseline hop (its connections, prepared
statements and the quorum queue's first segment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg

from bench import baseline, http_write, pipeline
from bench.environment import Spread, bench_settings, fresh_databases, fresh_vhost
from kooperacja import processes
from shared.settings import Settings
from shared.teryt import terc

# The run's names: its own, not those of the tests (whose namespaces conftest drops).
NAMESPACE = os.environ.get("KOOP_BENCH_NAMESPACE", "kbench")
PORT_BASE = int(os.environ.get("KOOP_BENCH_PORT_BASE", "8290"))


class Stack:
    """The four services on a vhost and databases of their own."""

    def __init__(self, namespace: str, port_base: int) -> None:
        self.settings = bench_settings(namespace)
        self.services = pipeline.Services(self.settings, port_base)
        self.gminas: list[str] = []
        self.team: dict[str, str] = {}

    async def start(self, gminas: list[str]) -> None:
        fresh_vhost(self.settings.database_prefix)
        await fresh_databases(self.settings)
        await asyncio.to_thread(self.services.start, *processes.SERVICES)
        os.environ.update(self.services.env)
        async with pipeline.client() as http:
            self.team = await pipeline.register_partners(
                self.settings, http, gminas, pipeline.CAPACITY
            )
        self.gminas = gminas

    def stop(self) -> None:
        self.services.stop(*self.services.procs)

    async def event_chain(self, diagnoses: int) -> pipeline.EventChainRun:
        os.environ.update(self.services.env)
        return await pipeline.event_chain(self.settings, self.services, self.gminas, diagnoses)


async def same_state(*settings: Settings) -> None:
    """Each pair starts alike: every database of the run vacuumed and analysed, then a
    checkpoint, so that what one pair wrote costs the next nothing."""
    admin = await asyncpg.connect(f"{settings[0].postgres_url}/postgres")
    try:
        names = [
            r["datname"]
            for s in settings
            for r in await admin.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_%'",
                s.database_prefix,
            )
        ]
        for name in names:
            conn = await asyncpg.connect(f"{settings[0].postgres_url}/{name}")
            try:
                await conn.execute("VACUUM (ANALYZE)")
            finally:
                await conn.close()
        await admin.execute("CHECKPOINT")
    finally:
        await admin.close()


async def conditions(settings: Settings) -> dict[str, float]:
    """What else the server and machine were doing: WAL written (by everyone, this run's
    databases and others'), checkpoints, and the load average. The baseline hop waits on its
    commits' WAL flush, which everything else writing WAL on the server slows down."""
    admin = await asyncpg.connect(f"{settings.postgres_url}/postgres")
    try:
        row = await admin.fetchrow(
            """SELECT pg_current_wal_lsn() - '0/0'::pg_lsn AS wal,
                      checkpoints_timed + checkpoints_req AS checkpoints
               FROM pg_stat_bgwriter"""
        )
    finally:
        await admin.close()
    return {
        "wal_bytes": float(row["wal"]),
        "checkpoints": float(row["checkpoints"]),
        "load_1min": os.getloadavg()[0],
    }


async def observed_flood(settings: Settings, messages: int) -> dict[str, Any]:
    before = await conditions(settings)
    flood = await baseline.flood(settings, messages)
    after = await conditions(settings)
    return asdict(flood) | {
        "server_wal_mb": (after["wal_bytes"] - before["wal_bytes"]) / 2**20,
        "checkpoints_during": after["checkpoints"] - before["checkpoints"],
        "load_1min": after["load_1min"],
    }


async def preload(stack: Stack, cases: int, sample: int) -> dict[str, Any]:
    """`cases` agreed plans with their open referrals, fast: `sample` of them through the real
    event chain, then every row those left in referrals and reporting copied in the databases
    themselves (INSERT … SELECT) under new ids, each id derived from the sample's by md5, so
    that the copies agree across databases (a case's referrals in referrals are its facts in
    reporting). The open-load counter follows by its trigger."""
    began = time.perf_counter()
    chain = await stack.event_chain(min(sample, cases))
    copies = -(-cases // chain.diagnoses) - 1
    rows: dict[str, int] = {}
    for service in ("referrals", "reporting"):
        conn = await asyncpg.connect(stack.settings.database_url(service))
        try:
            rows |= await replicate(conn, copies, service)
            await conn.execute("VACUUM (ANALYZE)")
        finally:
            await conn.close()
    seconds = time.perf_counter() - began
    return {
        "cases": chain.diagnoses * (copies + 1),
        "seconds": seconds,
        "cases_per_s": chain.diagnoses * (copies + 1) / seconds,
        "sample_through_the_chain": asdict(chain),
        "rows": rows,
    }


# Tables whose rows are not a case's: the directory and the machinery.
_KEEP = {"institutions", "partnerships", "institution_load", "schema_migrations", "outbox"}
_KEEP_UUIDS = {"institution_id"}


async def replicate(conn: asyncpg.Connection, copies: int, service: str) -> dict[str, int]:
    tables = [
        r["table_name"]
        for r in await conn.fetch(
            """SELECT table_name FROM information_schema.tables
               WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"""
        )
        if r["table_name"] not in _KEEP
    ]
    written: dict[str, int] = {}
    for table in tables:
        if not await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
            continue
        columns = await conn.fetch(
            """SELECT column_name, data_type, column_default, is_identity
               FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position""",
            table,
        )
        if not any(
            c["data_type"] == "uuid" and c["column_name"] not in _KEEP_UUIDS for c in columns
        ):
            continue  # nothing of a case's: the directory as reporting knows it
        names, values = [], []
        for c in columns:
            name, kind = c["column_name"], c["data_type"]
            if c["is_identity"] == "YES" or (c["column_default"] or "").startswith("nextval"):
                continue
            names.append(f'"{name}"')
            if kind == "uuid" and name not in _KEEP_UUIDS:
                values.append(f'md5(s."{name}"::text || k::text)::uuid')
            elif table == "event_sequence" and name == "subject":
                values.append("md5(s.subject || k::text)::uuid::text")
            else:
                values.append(f's."{name}"')
        status = await conn.execute(
            f'INSERT INTO "{table}" ({", ".join(names)}) '
            f'SELECT {", ".join(values)} FROM "{table}" s, generate_series(1, $1) k',
            copies,
        )
        written[f"{service}.{table}"] = int(status.split()[-1])
    return written


async def measure_pairs(args: argparse.Namespace) -> dict[str, Any]:
    base = bench_settings(f"{NAMESPACE}_base")
    fresh_vhost(base.database_prefix)
    await fresh_databases(base)
    empty = Stack(f"{NAMESPACE}_empty", PORT_BASE)
    full = Stack(f"{NAMESPACE}_full", PORT_BASE + 10) if args.preload else None
    wanted = max(args.gminas, -(-(args.preload + 20_000) // (pipeline.CAPACITY * 8 // 10)))
    gminas = sorted(g.code for g in terc().in_region("06") if g.powiat == pipeline.POWIAT)
    if wanted > len(gminas):
        raise SystemExit(f"--preload {args.preload} needs more institutions than the powiat has")
    results: dict[str, Any] = {"arguments": vars(args) | {"parts": sorted(args.parts)}}
    try:
        await empty.start(gminas[:wanted])
        if full is not None:
            await full.start(gminas[:wanted])
            results["preload"] = await preload(full, args.preload, args.preload_sample)
            print(
                f"preloaded {results['preload']['cases']:,} cases in "
                f"{results['preload']['seconds']:.0f} s"
            )
        stacks = [s for s in (empty, full) if s is not None]
        settings = [base] + [s.settings for s in stacks]
        pairs: list[dict[str, Any]] = []
        for n in range(args.pairs):
            pair: dict[str, Any] = {}
            await same_state(*settings)
            await baseline.flood(base, args.warmup)
            pair["baseline"] = await observed_flood(base, args.messages)
            if "hop" in args.parts:
                await same_state(*settings)
                pair["hop"] = asdict(
                    await pipeline.hop_flood(
                        empty.settings, empty.services, empty.gminas, args.hop_events
                    )
                )
            if "events" in args.parts:
                await same_state(*settings)
                pair["event_chain"] = asdict(await empty.event_chain(args.diagnoses))
                if full is not None:
                    await same_state(*settings)
                    pair["event_chain_preloaded"] = asdict(await full.event_chain(args.diagnoses))
            pairs.append(pair)
            print(f"pair {n + 1}: " + describe(pair))
            save(args, results | {"pairs": pairs})
        results["pairs"] = pairs
        results["summary"] = summary(pairs)
        save(args, results)
        rate = results["summary"]["baseline_msg_per_s"]["median"]
        if "latency" in args.parts:
            results["baseline_paced"] = {}
            for share in (0.25, 0.5, 0.75):
                paced = await baseline.paced(base, rate * share, args.paced_seconds)
                results["baseline_paced"][f"{share:.0%}"] = asdict(paced)
                print(
                    f"baseline hop paced at {share:.0%} of {rate:,.0f} msg/s: "
                    f"p50 {paced.p50_ms:.1f} ms, p99 {paced.p99_ms:.1f} ms"
                )
        if "chain" in args.parts:
            os.environ.update(empty.services.env)
            chain = pipeline.Results()
            async with pipeline.client() as http:
                await pipeline.drive_chain(
                    args, empty.settings, http, empty.team, empty.gminas, chain
                )
            results["http_chain"] = {"saturation": chain.saturation, "paced": chain.paced}
            results["http_chain"]["events_per_s_to_baseline"] = (
                chain.saturation["events_per_s"] / rate
            )
            save(args, results)
        if "http" in args.parts:
            # intake alone: the consumers downstream wait, their queues take what it publishes
            await asyncio.to_thread(empty.services.stop, "diagnosis", "referrals", "reporting")
            results["http_write"] = await http_write.measure(
                empty.settings,
                empty.services.procs["intake"].pid,
                empty.gminas[0],
                PORT_BASE + 9,  # past the stack's services (one port each from PORT_BASE)
                args.pairs,
                args.http_seconds,
                args.http_clients,
            )
        for stack in stacks:
            stack.services.note_rss()
        results["peak_rss_mb"] = {s.settings.database_prefix: s.services.peak_rss for s in stacks}
    finally:
        for stack in (empty, full):
            if stack is not None and stack.services.procs:
                stack.stop()
    return results


def save(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """What is measured so far, written after each part: a run cut short keeps it."""
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))


def describe(pair: dict[str, Any]) -> str:
    rate = pair["baseline"]["rate"]
    b = pair["baseline"]
    parts = [
        f"baseline {rate:,.0f} msg/s ({b['cpu_ms_per_msg']:.2f} ms CPU; load {b['load_1min']:.0f},"
        f" server WAL {b['server_wal_mb']:.0f} MB, {b['checkpoints_during']:.0f} checkpoints)"
    ]
    for name, hop in pair.get("hop", {}).get("rate", {}).items():
        cpu = pair["hop"]["cpu_ms_per_msg"][name]
        parts.append(f"{name} {hop / rate:.2f}× ({cpu:.2f} ms CPU)")
    for key in ("event_chain", "event_chain_preloaded"):
        if key in pair:
            chain = pair[key]
            parts.append(
                f"{key.replace('_', ' ')} {chain['events_per_s'] / rate:.2f}× "
                f"({chain['cpu_ms_per_event']:.2f} ms CPU/event)"
            )
    return ", ".join(parts)


def summary(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per measure: the median of the pairs' ratios to their own baseline, low and high."""
    out: dict[str, Any] = {
        "baseline_msg_per_s": asdict(Spread.of([p["baseline"]["rate"] for p in pairs])),
        "baseline_cpu_ms_per_msg": asdict(
            Spread.of([p["baseline"]["cpu_ms_per_msg"] for p in pairs])
        ),
    }
    ratios: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for p in pairs:
        rate = p["baseline"]["rate"]
        for name, hop in p.get("hop", {}).get("rate", {}).items():
            ratios.setdefault(f"{name} hop", []).append(hop / rate)
            cpu.setdefault(f"{name} hop", []).append(p["hop"]["cpu_ms_per_msg"][name])
        for key in ("event_chain", "event_chain_preloaded"):
            if key in p:
                ratios.setdefault(key, []).append(p[key]["events_per_s"] / rate)
                cpu.setdefault(key, []).append(p[key]["cpu_ms_per_event"])
        if "event_chain_preloaded" in p:
            ratios.setdefault("preloaded / empty event chain", []).append(
                p["event_chain_preloaded"]["events_per_s"] / p["event_chain"]["events_per_s"]
            )
    out["ratios_to_the_pairs_baseline"] = {k: asdict(Spread.of(v)) for k, v in ratios.items()}
    out["cpu_ms_per_message"] = {k: asdict(Spread.of(v)) for k, v in cpu.items()}
    print(
        "baseline hop "
        f"{Spread.of([p['baseline']['rate'] for p in pairs])} msg/s, "
        f"CPU {Spread.of([p['baseline']['cpu_ms_per_msg'] for p in pairs])} ms/msg"
    )
    for k, v in ratios.items():
        c = f", CPU {Spread.of(cpu[k])} ms/msg" if k in cpu else ""
        print(f"{k}: {Spread.of(v)}×{c}  (median of {len(v)} pairs, low–high)")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=int, default=5, help="interleaved A/B pairs")
    parser.add_argument("--messages", type=int, default=3000, help="baseline flood per pair")
    parser.add_argument("--warmup", type=int, default=300, help="baseline messages before each")
    parser.add_argument("--paced-seconds", type=float, default=8, help="each paced run")
    parser.add_argument(
        "--preload-sample",
        type=int,
        default=2000,
        help="preloaded cases sent through the event chain; the rest are copies of them",
    )
    parser.add_argument("--http-seconds", type=float, default=5, help="each HTTP run")
    parser.add_argument("--http-clients", type=int, default=10, help="concurrent HTTP clients")
    pipeline.add_arguments(parser)
