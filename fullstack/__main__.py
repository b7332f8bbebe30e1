"""``python -m fullstack COMMAND``: the harness's command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from fullstack import bench, bench_qos, bench_sg, cleanup, descriptions, interactive, prerequisites

SERVICE_HELP = ("the system to deploy: neutrino, neutron or a Service's import path "
                "(default: FULLSTACK_SERVICE, else neutrino)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fullstack")
    commands = parser.add_subparsers(dest="command", required=True)
    bench_parser = commands.add_parser("bench", help="time the connectivity scenario")
    bench_parser.add_argument("--hosts", type=int, default=3)
    bench_parser.add_argument("--runs", type=int, default=5)
    bench_parser.add_argument("--network-type", default="vxlan",
                              choices=descriptions.NETWORK_TYPES)
    bench_parser.add_argument("--regions", type=int, default=0,
                              help="that many regions of --hosts hosts each (neutrino)")
    bench_parser.add_argument("--service", help=SERVICE_HELP)
    bench_parser.add_argument("--json", action="store_true", help="one JSON object")
    sg_bench = commands.add_parser(
        "bench-sg", help="time security group changes: rule to traffic, a port's many rules")
    sg_bench.add_argument("--samples", type=int, default=10)
    sg_bench.add_argument("--rules", type=int, default=100)
    sg_bench.add_argument("--service", help=SERVICE_HELP)
    sg_bench.add_argument("--json", action="store_true", help="one JSON object")
    qos_bench = commands.add_parser(
        "bench-qos", help="time QoS changes: a rule's create and delete to the rate measured")
    qos_bench.add_argument("--samples", type=int, default=10)
    qos_bench.add_argument("--service", help=SERVICE_HELP)
    qos_bench.add_argument("--json", action="store_true", help="one JSON object")
    up = commands.add_parser("up", help="bring up a deployment that stays up")
    up.add_argument("--hosts", type=int, default=3)
    up.add_argument("--network-type", default="vxlan", choices=descriptions.NETWORK_TYPES)
    up.add_argument("--l2-pop", action="store_true", help="l2 population (and nothing else)")
    up.add_argument("--l3", action="store_true",
                    help="an L3 agent on host-1; with machines, a router to an external peer")
    up.add_argument("--dhcp", action="store_true",
                    help="a DHCP agent on host-1; machines then get their address by DHCP")
    up.add_argument("--machines", type=int, default=0,
                    help="machines on one network, spread over the hosts")
    up.add_argument("--regions", type=int, default=0,
                    help="that many regions (RegionOne, ...) of --hosts hosts each, and a "
                         "central server (neutrino)")
    up.add_argument("--service", help=SERVICE_HELP)
    up.add_argument("--json", action="store_true", help="the summary as one JSON object")
    status = commands.add_parser("status", help="list the standing deployments")
    status.add_argument("--json", action="store_true", help="one JSON list")
    down = commands.add_parser("down", help="tear standing deployments down")
    which = down.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="the id 'up' printed")
    which.add_argument("--all", action="store_true", help="every standing deployment")
    commands.add_parser("cleanup", help="remove what crashed or killed runs left behind")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        if args.command == "cleanup":
            return run_cleanup()
        if args.command == "up":
            return run_up(args)
        if args.command == "status":
            return run_status(args)
        if args.command == "down":
            return run_down(args)
        if args.command == "bench-sg":
            if args.samples < 1 or args.rules < 1:
                parser.error("--samples and --rules must be at least 1")
            sg = bench_sg.run_bench(args.samples, args.rules, args.service)
            print(json.dumps(sg) if args.json else bench_sg.render(sg))
            return 0
        if args.command == "bench-qos":
            if args.samples < 1:
                parser.error("--samples must be at least 1")
            qos = bench_qos.run_bench(args.samples, args.service)
            print(json.dumps(qos) if args.json else bench_qos.render(qos))
            return 0
        if args.hosts < 1 or args.runs < 1 or args.regions < 0:
            parser.error("--hosts and --runs must be at least 1, --regions at least 0")
        result = bench.run_rounds(args.hosts, args.runs, args.network_type, args.service,
                                  args.regions)
        print(bench.render(result, args.json))
        return 0
    except (prerequisites.MissingPrerequisite, ValueError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


def run_up(args: argparse.Namespace) -> int:
    request = interactive.UpRequest(
        hosts=args.hosts, network_type=args.network_type, l2_pop=args.l2_pop,
        l3=args.l3, dhcp=args.dhcp, machines=args.machines, service=args.service,
        regions=args.regions)
    start = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - start:5.1f} s] {message}", file=sys.stderr, flush=True)

    summary = interactive.up(prerequisites.Settings.from_environment(), request, progress)
    print(json.dumps(summary) if args.json else interactive.render_summary(summary))
    return 0


def run_status(args: argparse.Namespace) -> int:
    summaries = interactive.standing(prerequisites.Settings.from_environment())
    print(json.dumps(summaries) if args.json else interactive.render_status(summaries))
    return 0


def run_down(args: argparse.Namespace) -> int:
    settings = prerequisites.Settings.from_environment()
    prefixes = ([s["id"] for s in interactive.standing(settings)] if args.all else [args.id])
    if not prefixes:
        print("down: no standing deployment")
    for prefix in prefixes:
        removed = interactive.down(settings, prefix)
        print(f"down: {prefix}: removed {len(removed)} item(s)")
    return 0


def run_cleanup() -> int:
    cleaned = cleanup.clean_dead_runs(prerequisites.Settings.from_environment())
    if not cleaned:
        print("cleanup: nothing left by earlier runs")
    for prefix, removed in cleaned.items():
        print(f"cleanup: run {prefix}: removed {len(removed)} item(s)")
        for item in removed:
            print(f"  {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
