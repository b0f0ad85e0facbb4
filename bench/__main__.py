"""`python -m bench`: the baseline hop (flood, paced), then the whole pipeline against it in
the same run (`--no-pipeline` for the baseline alone)."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path

from bench import baseline, pipeline
from bench.environment import bench_settings, fresh_databases, fresh_vhost


async def main(args: argparse.Namespace) -> dict[str, object]:
    settings = bench_settings()
    fresh_vhost()
    await fresh_databases(settings)
    flood = await baseline.flood(settings, args.messages)
    results: dict[str, object] = {"baseline_flood": asdict(flood)}
    print(
        f"baseline hop, flood: {flood.messages} msgs in {flood.seconds:.2f}s = "
        f"{flood.rate:,.0f} msg/s ({flood.cpu_ms_per_msg:.2f} ms CPU/msg)"
    )
    for share in (0.25, 0.5, 0.75):
        rate = flood.rate * share
        paced = await baseline.paced(settings, rate, args.paced_seconds)
        results[f"baseline_paced_{int(share * 100)}"] = asdict(paced)
        print(
            f"baseline hop, paced at {share:.0%} ({rate:,.0f} msg/s): "
            f"p50 {paced.p50_ms:.1f} ms, p99 {paced.p99_ms:.1f} ms"
        )
    if args.pipeline:
        # The baseline's databases and vhost are reused: the pipeline only adds its own.
        results["pipeline"] = asdict(await pipeline.run(args, flood))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--no-pipeline", dest="pipeline", action="store_false")
    pipeline.add_arguments(parser)
    parser.add_argument("--out", default="bench/results/latest.json")
    args = parser.parse_args()
    results = asyncio.run(main(args))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"written to {args.out}")
