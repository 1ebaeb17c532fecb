"""Export the alert rules of a running Odoo to Prometheus and Alertmanager files, without the web client.

    python -m tools.export --url https://odoo.example.com --db prod --login admin --out /etc/prometheus/

The password is read from the ODOO_PASSWORD environment variable (never from the command line, where
other users of the machine could read it). The user must be an API Monitoring manager.
"""

from __future__ import annotations

import argparse
import os
import sys
import xmlrpc.client
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export api_monitor's rules for Prometheus and Alertmanager.")
    parser.add_argument("--url", required=True, help="Odoo's base URL")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--out", default=".", help="folder to write the files into")
    args = parser.parse_args(argv)
    password = os.environ.get("ODOO_PASSWORD")
    if not password:
        print("Set ODOO_PASSWORD to the password of the Odoo user.", file=sys.stderr)
        return 2
    uid = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/common").authenticate(args.db, args.login, password, {})
    if not uid:
        print(f"Odoo refused the login {args.login!r} on database {args.db!r}.", file=sys.stderr)
        return 2
    models = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/object", allow_none=True)
    try:
        files = models.execute_kw(args.db, uid, password, "api.monitor.rule", "export_files", [])
    except xmlrpc.client.Fault as fault:
        print(f"Odoo refused the export: {fault.faultString.strip().splitlines()[-1]}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
