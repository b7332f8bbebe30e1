"""``python -m fullstack COMMAND``: the harness's command line."""

from __future__ import annotations

import argparse
import logging
import sys

from fullstack import bench, cleanup, environment, prerequisites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fullstack")
    commands = parser.add_subparsers(dest="command", required=True)
    bench_parser = commands.add_parser("bench", help="time the connectivity scenario")
    bench_parser.add_argument("--hosts", type=int, default=3)
    bench_parser.add_argument("--runs", type=int, default=5)
    bench_parser.add_argument("--network-type", default="vxlan",
                              choices=environment.NETWORK_TYPES)
    bench_parser.add_argument("--json", action="store_true", help="one JSON object")
    commands.add_parser("cleanup", help="remove what crashed or killed runs left behind")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "cleanup":
        return run_cleanup()
    if args.hosts < 1 or args.runs < 1:
        parser.error("--hosts and --runs must be at least 1")
    result = bench.run_rounds(args.hosts, args.runs, args.network_type)
    print(bench.render(result, args.json))
    return 0


def run_cleanup() -> int:
    try:
        cleaned = cleanup.clean_dead_runs(prerequisites.Settings.from_environment())
    except prerequisites.MissingPrerequisite as exc:
        print(f"cleanup: {exc}", file=sys.stderr)
        return 1
    if not cleaned:
        print("cleanup: nothing left by earlier runs")
    for prefix, removed in cleaned.items():
        print(f"cleanup: run {prefix}: removed {len(removed)} item(s)")
        for item in removed:
            print(f"  {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
