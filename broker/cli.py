"""The ``broker`` command line."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

from broker.clock import SystemClock
from broker.errors import BrokerError
from broker.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _init(args: argparse.Namespace, settings: Settings) -> int:
    from broker.bootstrap import initialise

    report = initialise(settings)
    print(f"database: {report.database}")
    print(f"organisations: {report.organisations} ({len(report.new_organisations)} new)")
    return 0


# Young-generation size and the two promotion counts of the cyclic collector (see _serve).
GC_THRESHOLDS = (50_000, 20, 20)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from broker.app import create_app
    from broker.preflight import check_production

    check_production(settings)
    app = create_app(settings)
    # Everything imported so far lives as long as the process: keep the collector's full
    # passes from walking these ~170,000 objects again and again (they were up to 40% of a
    # 10,000-signal bulk request's CPU, and slow every other request as much).
    gc.collect()
    gc.freeze()
    # Fewer, larger young collections: with the default thresholds a full pass ran every few
    # seconds under load and paused the process 16-45 ms (measured with gc.callbacks at
    # 150 queries/s per process); at these thresholds none ran in a 35 s run and no young
    # pass took over 2 ms. Cyclic garbage is still collected, just in bigger batches.
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


def _orgs(args: argparse.Namespace, settings: Settings) -> int:
    from broker.organisations.chain import load_chain

    for spec in load_chain(settings.resolved_chain_file):
        print(spec.id)
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from broker.auth.jwk import ed25519_public_jwk
    from broker.auth.tokens import sign_token
    from broker.organisations.devkeys import load_development_key

    if settings.is_production:
        print(
            "broker token: development tokens are refused when BROKER_ENV=production",
            file=sys.stderr,
        )
        return 2
    key = load_development_key(settings.dev_key_dir, args.org)
    kid = ed25519_public_jwk(key.public_key())["kid"]
    print(
        sign_token(
            key,
            kid=kid,
            org_id=args.org,
            user=args.user,
            roles=args.role,
            audience=settings.token_audience,
            now=SystemClock().now(),
            lifetime=timedelta(seconds=args.lifetime),
            acting_for=args.acting_for,
        )
    )
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from broker.demo import run_demo

    return int(run_demo(settings, url=args.url))


def _log(args: argparse.Namespace, settings: Settings) -> int:
    from broker.disclosure_log.commands import run_log_command

    return run_log_command(args.action, settings, workers=args.workers)


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from broker.rotation.commands import run_keys_command

    return run_keys_command(args.action, settings, batch_size=args.batch_size)


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from broker.signals.commands import run_purge

    return run_purge(settings)


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="broker", description="DV chain information broker")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate the schema, create keys, load organisations")
    serve = sub.add_parser("serve", help="serve the API and console")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("orgs", help="list organisation ids, one per line")
    token = sub.add_parser("token", help="print a development token (not in production)")
    token.add_argument("--org", required=True)
    token.add_argument("--user", required=True)
    token.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["professional", "coordinator", "privacy_officer", "admin"],
    )
    token.add_argument("--acting-for", default=None)
    token.add_argument("--lifetime", type=int, default=300, help="seconds, at most 900")
    demo = sub.add_parser("demo", help="tell the broker's story through the HTTP API")
    demo.add_argument("--url", default=None, help="a running broker; default: start one in-process")
    log = sub.add_parser("log", help="the disclosure log")
    log.add_argument(
        "action",
        choices=["verify", "checkpoint", "redact"],
        help="verify everything; sign a checkpoint now; apply retention",
    )
    log.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="verify: processes that check the entries (default: one per CPU for large logs)",
    )
    keys = sub.add_parser("keys", help="key versions and rotation")
    keys.add_argument(
        "action",
        choices=["rotate", "status", "retire-old"],
        help="rotate: new version and re-key stored pseudonyms; status: versions",
    )
    keys.add_argument("--batch-size", type=int, default=5000)
    sub.add_parser("purge", help="remove expired signals (tombstones stay five years)")
    return parser


HANDLERS: dict[str, Handler] = {
    "init": _init,
    "serve": _serve,
    "orgs": _orgs,
    "token": _token,
    "demo": _demo,
    "log": _log,
    "keys": _keys,
    "purge": _purge,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``broker`` script."""
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return HANDLERS[args.command](args, settings)
    except BrokerError as exc:
        print(f"broker {args.command}: {exc.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
