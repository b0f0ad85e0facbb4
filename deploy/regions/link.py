#!/usr/bin/env python3
"""Links region brokers to a macro-region broker with RabbitMQ's own Shovel plugin.

Each region gets, on its own broker: a durable quorum queue bound to its `kooperacja.events`
exchange with `#` (it holds every event while the link or the macro-region is down) and a
dynamic shovel that moves that queue into the macro-region's `kooperacja.events` exchange,
keeping each message's routing key, properties and body (so the CloudEvents `region` extension
and `data.place.region` arrive unchanged). The macro-region gets its exchange.

The definitions are RabbitMQ definitions documents, applied with `rabbitmqctl import_definitions`
(idempotent: applying again changes nothing that is already there). Only the standard library is
used, so this runs on any machine with Python 3.11 and rabbitmqctl.

    python3 deploy/regions/link.py --macro amqp://link:SECRET@macro-host/macro \\
        --region 06=amqp://link:SECRET@r06-host/region06 \\
        --region 14=amqp://link:SECRET@r14-host/region14 --apply

Without --apply it prints the documents; --out DIR writes one file per broker instead, for
brokers this machine cannot reach with rabbitmqctl. --unlink removes the shovels (the link
queues stay and go on collecting events until the link is applied again).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

EXCHANGE = "kooperacja.events"
LINK = "macro-region"


@dataclass(frozen=True)
class RegionLink:
    """One region's broker, linked to the macro-region's."""

    region: str
    uri: str

    @property
    def vhost(self) -> str:
        return vhost_of(self.uri)


def vhost_of(uri: str) -> str:
    """The vhost an AMQP URI names: its path, URL-decoded; `/` when the path is empty."""
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def link_queue(link: str = LINK) -> str:
    return f"kooperacja.link.{link}"


def shovel_name(link: str = LINK) -> str:
    return f"kooperacja-link-{link}"


def _exchange(vhost: str) -> dict[str, Any]:
    # The same declaration the services make, so whichever comes first the other matches it.
    return {
        "name": EXCHANGE,
        "vhost": vhost,
        "type": "topic",
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }


def verified_tls_uri(
    uri: str, ca_cert: str | None, client_cert: str | None = None, client_key: str | None = None
) -> str:
    """An amqps:// URI the shovel can only use against the macro-region's real broker: the
    Erlang client verifies the peer's certificate against `ca_cert` (a path on the region's
    broker nodes) and the host name (SNI). A plain amqp:// URI is returned as it is (one machine,
    tests); an amqps:// one without a CA and without its own `verify=` is refused."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "amqps":
        return uri
    query = urllib.parse.parse_qsl(parts.query)
    if any(key == "verify" for key, _ in query):
        return uri
    if not ca_cert:
        raise ValueError(
            "an amqps:// macro-region needs --ca-cert (the CA file on the region's broker "
            "nodes), so the shovel verifies whom it talks to"
        )
    query += [
        ("cacertfile", ca_cert),
        ("verify", "verify_peer"),
        ("server_name_indication", parts.hostname or ""),
    ]
    if client_cert and client_key:
        query += [("certfile", client_cert), ("keyfile", client_key)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="/")))


def region_definitions(region: RegionLink, macro_uri: str, link: str = LINK) -> dict[str, Any]:
    """What the region's broker needs: the exchange, the link queue and the shovel."""
    vhost = region.vhost
    queue = link_queue(link)
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [_exchange(vhost)],
        "queues": [
            {
                "name": queue,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                # Replicated on a cluster, and kept while the macro-region is unreachable.
                "arguments": {"x-queue-type": "quorum"},
            }
        ],
        "bindings": [
            {
                "source": EXCHANGE,
                "vhost": vhost,
                "destination": queue,
                "destination_type": "queue",
                "routing_key": "#",
                "arguments": {},
            }
        ],
        "parameters": [
            {
                "vhost": vhost,
                "component": "shovel",
                "name": shovel_name(link),
                "value": {
                    "src-protocol": "amqp091",
                    "src-uri": region.uri,
                    "src-queue": queue,
                    "dest-protocol": "amqp091",
                    "dest-uri": macro_uri,
                    "dest-exchange": EXCHANGE,
                    # No dest-exchange-key: the routing key (the event type) is kept.
                    # A message leaves the link queue only once the macro-region confirmed it.
                    "ack-mode": "on-confirm",
                    "reconnect-delay": 2,
                },
            }
        ],
    }


def macro_definitions(macro_uri: str) -> dict[str, Any]:
    """What the macro-region's broker needs: the exchange the shovels publish into."""
    vhost = vhost_of(macro_uri)
    return {"vhosts": [{"name": vhost}], "exchanges": [_exchange(vhost)]}


def documents(
    macro_uri: str, regions: list[RegionLink], link: str = LINK
) -> dict[str, dict[str, Any]]:
    """One definitions document per broker, named for the file it would be written to."""
    docs = {"macro.json": macro_definitions(macro_uri)}
    for region in regions:
        docs[f"region-{region.region}.json"] = region_definitions(region, macro_uri, link)
    return docs


def apply(
    docs: dict[str, dict[str, Any]], rabbitmqctl: list[str], wait_seconds: float = 60
) -> None:
    # The macro-region first, so the shovels find their destination exchange.
    for name, doc in docs.items():
        _ctl(rabbitmqctl, "import_definitions", "--format", "json", stdin=json.dumps(doc))
        print(f"applied {name}", file=sys.stderr)
    # rabbitmqctl may finish the import in the background; events published before the link
    # queue is bound would not be held, so return only once every binding is in place.
    deadline = time.monotonic() + wait_seconds
    for doc in docs.values():
        for binding in doc.get("bindings", []):
            while not _bound(rabbitmqctl, binding):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"binding {binding} not in place after {wait_seconds}s")
                time.sleep(0.2)


def _bound(rabbitmqctl: list[str], binding: dict[str, Any]) -> bool:
    listed = _ctl(
        rabbitmqctl,
        "list_bindings",
        "-p",
        binding["vhost"],
        "source_name",
        "destination_name",
        "routing_key",
    )
    wanted = (binding["source"], binding["destination"], binding["routing_key"])
    return any(tuple(line.split("\t")) == wanted for line in listed.splitlines())


def _ctl(rabbitmqctl: list[str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [*rabbitmqctl, "-q", *args],
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def unlink(regions: list[RegionLink], rabbitmqctl: list[str], link: str = LINK) -> None:
    for region in regions:
        _ctl(rabbitmqctl, "clear_parameter", "-p", region.vhost, "shovel", shovel_name(link))
        print(f"unlinked region {region.region}", file=sys.stderr)


def _region_arg(value: str) -> RegionLink:
    code, sep, uri = value.partition("=")
    if not sep or len(code) != 2 or not code.isdigit() or not uri.startswith("amqp"):
        raise argparse.ArgumentTypeError(f"expected CODE=amqp://…/vhost, got {value!r}")
    return RegionLink(code, uri)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--macro", required=True, help="AMQP URI of the macro-region vhost")
    parser.add_argument(
        "--region", action="append", type=_region_arg, required=True, help="CODE=AMQP URI"
    )
    parser.add_argument("--link", default=LINK, help="name of the link (queue and shovel)")
    parser.add_argument(
        "--ca-cert", help="amqps: CA file on the region's broker nodes (verifies the macro-region)"
    )
    parser.add_argument("--client-cert", help="amqps: the region's certificate (mutual TLS)")
    parser.add_argument("--client-key", help="amqps: the region's private key (mutual TLS)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--apply", action="store_true", help="import with rabbitmqctl")
    action.add_argument("--unlink", action="store_true", help="remove the shovels")
    action.add_argument("--out", type=Path, help="write one definitions file per broker here")
    parser.add_argument(
        "--rabbitmqctl", default="rabbitmqctl", help="command to run, e.g. 'rabbitmqctl -n node'"
    )
    args = parser.parse_args(argv)
    if not args.macro.startswith("amqp"):
        parser.error(f"--macro: expected an amqp:// or amqps:// URI, got {args.macro!r}")
    ctl = shlex.split(args.rabbitmqctl)
    try:
        macro = verified_tls_uri(args.macro, args.ca_cert, args.client_cert, args.client_key)
    except ValueError as exc:
        parser.error(f"--macro: {exc}")
    docs = documents(macro, args.region, args.link)
    try:
        if args.unlink:
            unlink(args.region, ctl, args.link)
        elif args.apply:
            apply(docs, ctl)
        elif args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            for name, doc in docs.items():
                path = args.out / name
                path.write_text(json.dumps(doc, indent=2) + "\n")
                path.chmod(0o600)  # the shovel URIs carry passwords
        else:
            print(json.dumps(docs, indent=2))
    except TimeoutError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip()
        hint = ""
        if "shovel" in detail.lower() or "component" in detail.lower():
            hint = (
                " (is the rabbitmq_shovel plugin enabled? rabbitmq-plugins enable rabbitmq_shovel)"
            )
        print(f"{' '.join(exc.cmd)} failed: {detail}{hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
