"""``broker-connect``: import an organisation's export into the broker, or poll its inbox.

    broker-connect police --file export.csv --url http://127.0.0.1:8000
    broker-connect shelter --watch /srv/exports --url https://broker.example
    broker-connect inbox --url http://127.0.0.1:8000 --org vt-rr

Exit codes: 0 all rows registered; 1 some rows were skipped (the valid ones are
registered); 2 a usage, key or file problem; 3 the broker refused or could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from connectors.credentials import development_key_path, load_private_key
from connectors.errors import BrokerAPIError, BrokerUnavailable, ConnectorError
from connectors.importer import DEFAULT_BATCH, Importer, ImportReport, Reporter, to_stderr
from connectors.inbox import InboxPoller
from connectors.mappings import EXPORTS, Export
from connectors.sdk import BrokerClient
from connectors.validation import RowValidator
from connectors.watch import WatchFolder

OK, ROWS_SKIPPED, USAGE, BROKER = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="broker-connect", description="Connect an organisation's system to the DV broker."
    )
    parser.add_argument("type", choices=[*EXPORTS, "inbox"], help="export type, or inbox")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--file", type=Path, help="import one export file")
    source.add_argument("--watch", type=Path, help="import files dropped into this folder")
    parser.add_argument("--url", default=os.environ.get("BROKER_URL"), help="the broker's URL")
    parser.add_argument("--org", help="organisation id (default: the type's example org)")
    parser.add_argument("--key", type=Path, help="PEM Ed25519 key (default: the dev key)")
    parser.add_argument("--kid", help="key id (default: the key's RFC 7638 thumbprint)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("BROKER_DATA_DIR", "./var")),
        help="where `broker init` put dev-keys/ (default: $BROKER_DATA_DIR or ./var)",
    )
    parser.add_argument("--user", default="broker-connect", help="token subject")
    parser.add_argument(
        "--role",
        choices=["professional", "coordinator"],
        default="professional",
        help="token role (coordinators decide on release requests)",
    )
    parser.add_argument(
        "--plain", action="store_true", help="send identifiers, not blind OPRF outputs"
    )
    parser.add_argument(
        "--batch-size", type=_batch_size, default=DEFAULT_BATCH, help="rows per bulk request"
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", action="store_true", default=None)
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--once", action="store_true", help="watch/inbox: poll once and exit")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    parser.add_argument("--settle", type=float, default=2.0, help="watch: file quiet seconds")
    return parser


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("between 1 and 10,000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("--url is required (or set BROKER_URL)")
    if args.type == "inbox":
        if not args.org:
            parser.error("inbox needs --org")
    elif (args.file is None) == (args.watch is None):
        parser.error("give --file PATH or --watch DIR")
    try:
        with _client(args) as client:
            return _run(args, client)
    except BrokerUnavailable as exc:
        to_stderr(f"broker-connect: the broker could not be reached: {exc}")
        return BROKER
    except BrokerAPIError as exc:
        to_stderr(f"broker-connect: the broker refused: {exc}")
        return BROKER
    except ConnectorError as exc:
        to_stderr(f"broker-connect: {exc}")
        return USAGE
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, client: BrokerClient) -> int:
    if args.type == "inbox":
        poller = InboxPoller(client)
        if args.once:
            poller.poll_once()
        else:
            poller.run(interval=args.interval)
        return OK
    export = EXPORTS[args.type]
    validator = RowValidator.from_policy_dir(org_type=export.org_type)

    def make_importer(report: Reporter = to_stderr) -> Importer:
        return Importer(
            client,
            export,
            validator,
            batch_size=args.batch_size,
            report=report,
            progress=args.progress,
        )

    if args.file is not None:
        return _summarise(make_importer().import_file(args.file))
    folder = WatchFolder(
        args.watch, make_importer=make_importer, suffixes=export.suffixes, settle=args.settle
    )
    if not args.once:
        folder.run(interval=args.interval)
    results = folder.poll_once()
    codes = [BROKER if r is None else _summarise(r) for _, r in results]
    return max(codes, default=OK)


def _client(args: argparse.Namespace) -> BrokerClient:
    export: Export | None = EXPORTS.get(args.type)
    org = args.org or (export.default_org if export else None)
    assert org is not None
    key_path = args.key or development_key_path(args.data_dir, org)
    if not key_path.exists():
        raise ConnectorError(f"no key at {key_path}; give --key, or --data-dir of `broker init`")
    return BrokerClient(
        args.url,
        org_id=org,
        private_key=load_private_key(key_path),
        kid=args.kid,
        user=args.user,
        roles=(args.role,),
        blind=not args.plain,
        max_batch=args.batch_size,
    )


def _summarise(report: ImportReport) -> int:
    print(json.dumps(report.as_dict(), sort_keys=True), flush=True)
    to_stderr(
        f"{report.file}: {report.rows} rows, {report.accepted} registered "
        f"(or registered before), {report.skipped} skipped, {report.matches} matches, "
        f"{report.seconds:.1f} s"
    )
    return ROWS_SKIPPED if report.skipped else OK


if __name__ == "__main__":
    sys.exit(main())
