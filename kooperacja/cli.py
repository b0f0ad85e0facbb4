"""`kooperacja up | demo | status | dlq | token | reporting rebuild | import-cases`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx

from kooperacja import importing, operations, processes, status
from kooperacja.local_subjects import local_subject
from shared.auth import Role, issue_token
from shared.claims import InvalidClaims, parse_claims
from shared.settings import InsecureConfiguration, Settings, get_settings


def cmd_up(args: argparse.Namespace) -> int:
    # `up` runs the whole system on a developer machine: development mode unless told otherwise.
    os.environ.setdefault("KOOP_ENV", "development")
    get_settings.cache_clear()
    settings = get_settings()
    procs = processes.start(settings)
    stopping = False

    def on_signal(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        processes.wait_ready(settings, procs)
        # The web front only calls the services' APIs, so it starts once they answer.
        web = processes.start(settings, env=processes.web_env(settings), only=("web",))
        procs.update(web)
        processes.wait_ready(settings, web)
        print("\nKooperacja is running (Ctrl-C stops it):")
        for name in processes.SERVICES:
            print(f"  {name:<12} {settings.base_url(name)}/api/v1/docs")
        print(f"  {'web':<12} {settings.base_url('web')}/")
        if args.demo:
            from kooperacja.demo import run_demo

            run_demo(settings, cases=args.cases)
            print_sign_in(settings)
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping: each service finishes the messages in hand", flush=True)
        processes.stop(procs)


def print_sign_in(settings: Settings) -> None:
    """How to sign in to the web front as each demo person (development mode's sign-in page)."""
    from kooperacja.demo_data import DEMO_PEOPLE

    url = settings.base_url("web")
    print(f"\nOpen {url}/logowanie and choose a person of the demo region:")
    for person in DEMO_PEOPLE:
        print(f"  Zaloguj jako {person['name']:<18} {person['title']}")
    print("(the demo sign-in exists in development mode only: KOOP_ENV=development)")


def cmd_demo(args: argparse.Namespace) -> int:
    from kooperacja.demo import run_demo

    run_demo(get_settings(), cases=args.cases)
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    rows, event_log = status.gather(get_settings())
    text, problems = status.render(rows, event_log)
    print(text)
    return 1 if problems else 0


def cmd_dlq(args: argparse.Namespace) -> int:
    found = asyncio.run(
        operations.dead_letters(
            get_settings().amqp_url, args.service, action=args.action, message_id=args.id
        )
    )
    for item in found:
        if args.action == "show":
            print(json.dumps(item, indent=2, ensure_ascii=False, default=str))
        else:
            print(
                f"{item['message_id']}  {item['type']}  attempts={item['attempts']}  "
                f"{item['error']}"
            )
    verb = {"list": "held", "show": "held", "replay": "replayed", "purge": "purged"}[args.action]
    print(f"{len(found)} message(s) {verb} in {args.service}'s dead-letter queue")
    return 0


def cmd_reporting(args: argparse.Namespace) -> int:
    """Ask the running reporting service to rebuild its projections from the event log; the
    command never imports a service, it speaks to it over HTTP as an operator."""
    settings = get_settings()
    token = issue_token(settings, subject="kooperacja-cli", role=Role.OPERATOR, ttl_seconds=3600)
    url = f"{settings.base_url('reporting')}/api/v1/admin/rebuild"
    try:
        response = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=None)
    except httpx.HTTPError as exc:
        print(f"reporting unreachable at {url}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"rebuild refused ({response.status_code}): {response.text}", file=sys.stderr)
        return 1
    result = response.json()
    print(
        f"rebuilt from {result['events']} events ({result['skipped']} skipped) in "
        f"{result['seconds']:.1f}s, {result['events_per_second']:.0f} events/s; live again"
    )
    for why, count in result.get("skipped_because", {}).items():
        print(f"  skipped {count} {why}")
    return 0


def cmd_import_cases(args: argparse.Namespace) -> int:
    """Stream a file of case files to intake. Without --token (or KOOP_TOKEN) a local token is
    signed for a caseworker of the gmina, as `kooperacja token` would."""
    settings = get_settings()
    subject = args.subject or local_subject(Role.CASEWORKER, gmina=args.gmina)
    token = args.token or issue_token(
        settings, subject=subject, role=Role.CASEWORKER, gmina=args.gmina, ttl_seconds=3600
    )
    return importing.run(settings, Path(args.file), args.gmina, token, args.key)


def cmd_token(args: argparse.Namespace) -> int:
    scope = {"gmina": args.gmina, "powiat": args.powiat, "region": args.region,
             "institution": args.institution}  # fmt: skip
    try:
        # The services would refuse it (401): say why here instead of printing a useless token.
        parse_claims({"role": args.role, **scope})
    except InvalidClaims as exc:
        print(f"kooperacja token: {exc} (README: the claims each role takes)", file=sys.stderr)
        return 2
    print(
        issue_token(
            get_settings(),
            subject=args.subject or local_subject(Role(args.role), **scope),
            role=Role(args.role),
            ttl_seconds=args.hours * 3600,
            **scope,
        )
    )
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from shared.asyncapi import render

    text = render(get_settings(), args.service)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kooperacja", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="apply migrations and run all five services")
    up.add_argument("--demo", action="store_true", help="load the demo region once running")
    up.add_argument("--cases", type=int, default=8)
    up.set_defaults(func=cmd_up)

    demo = sub.add_parser("demo", help="load the demo region into running services")
    demo.add_argument("--cases", type=int, default=8)
    demo.set_defaults(func=cmd_demo)

    sub.add_parser("status", help="services, queues and dead letters").set_defaults(func=cmd_status)

    dlq = sub.add_parser("dlq", help="inspect, replay or purge a service's dead letters")
    dlq.add_argument("action", choices=["list", "show", "replay", "purge"])
    dlq.add_argument("service", choices=list(operations.CONSUMING))
    dlq.add_argument("--id", help="only the message with this message or event id")
    dlq.set_defaults(func=cmd_dlq)

    reporting = sub.add_parser("reporting", help="reporting operations")
    reporting.add_argument(
        "action", choices=["rebuild"], help="rebuild the projections from the event log"
    )
    reporting.set_defaults(func=cmd_reporting)

    token = sub.add_parser("token", help="issue a bearer token for local use")
    token.add_argument("role", choices=[r.value for r in Role])
    token.add_argument(
        "--subject", help="who the token names; default: one subject per role and scope"
    )
    token.add_argument("--gmina")
    token.add_argument("--powiat")
    token.add_argument("--region")
    token.add_argument("--institution")
    token.add_argument("--hours", type=int, default=8)
    token.set_defaults(func=cmd_token)

    imports = sub.add_parser(
        "import-cases", help="import a gmina's case files (NDJSON, one case per line)"
    )
    imports.add_argument("file", help="NDJSON: the body of POST /cases plus external_id a line")
    imports.add_argument("--gmina", required=True, help="TERYT code of the gmina")
    imports.add_argument(
        "--token", default=os.environ.get("KOOP_TOKEN"), help="bearer token (or KOOP_TOKEN)"
    )
    imports.add_argument(
        "--subject", help="for the local token; default: the gmina's local caseworker"
    )
    imports.add_argument("--key", help="Idempotency-Key: a retry answers as the first run did")
    imports.set_defaults(func=cmd_import_cases)

    asyncapi = sub.add_parser("asyncapi", help="the AsyncAPI 3 document of the event stream")
    asyncapi.add_argument(
        "--out", help="write it to this file (docs/asyncapi.json is the copy in the repository)"
    )
    asyncapi.add_argument(
        "--service", help="only what this service publishes (as its /api/v1/asyncapi.json)"
    )
    asyncapi.set_defaults(func=cmd_asyncapi)

    args = parser.parse_args(argv)
    try:
        sys.exit(args.func(args))
    except InsecureConfiguration as exc:
        print(f"kooperacja: {exc}", file=sys.stderr)
        sys.exit(2)
