"""`python -m bench`: every figure of the pipeline in one command, written as JSON.

Interleaved pairs (`bench.pairs`): the raw durable hop, then the services' one-hop floods and
the event chain on empty databases and on databases preloaded with `--preload` cases, each
ratio the median of the pairs' own ratios with its spread and the CPU per message beside it;
then the baseline hop paced (latency), and the whole chain driven over HTTP (saturation, paced
at 25/50/75 % of it, the HTTP calls' share of a case's time).

    python -m bench --pairs 5 --preload 100000 --out bench/results/latest.json
"""

from __future__ import annotations

import argparse
import asyncio

from bench import pairs

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    pairs.add_arguments(parser)
    parser.add_argument("--out", default="bench/results/latest.json")
    args = parser.parse_args()
    pairs.save(args, asyncio.run(pairs.measure_pairs(args)))
    print(f"written to {args.out}")
