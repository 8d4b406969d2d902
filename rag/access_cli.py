"""`rag users` and `rag keys`: the operator's commands for users, grants and API keys of an index."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    """Add the `users` and `keys` subcommands to the `rag` parser."""
    users = subparsers.add_parser("users", help="users and their collection grants (turns auth on)")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = _with_index(users_sub.add_parser("add", help="create a user; from then on requests need a key"))
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="may read and write every collection")
    add.set_defaults(func=run_users_add)
    grant = _with_index(
        users_sub.add_parser("grant", help="let a user read (or read and write) a collection")
    )
    grant.add_argument("name")
    grant.add_argument("collection")
    level = grant.add_mutually_exclusive_group(required=True)
    level.add_argument("--read", action="store_true", help="search and ask it")
    level.add_argument("--write", action="store_true", help="also upload to and remove from it")
    grant.set_defaults(func=run_users_grant)
    ungrant = _with_index(users_sub.add_parser("ungrant", help="take a collection away from a user"))
    ungrant.add_argument("name")
    ungrant.add_argument("collection")
    ungrant.set_defaults(func=run_users_ungrant)
    listing = _with_index(users_sub.add_parser("list", help="users, grants and live key ids"))
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_users_list)

    keys = subparsers.add_parser("keys", help="API keys (Authorization: Bearer KEY)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = _with_index(keys_sub.add_parser("create", help="a new key for a user, printed once"))
    create.add_argument("name")
    create.set_defaults(func=run_keys_create)
    revoke = _with_index(keys_sub.add_parser("revoke", help="revoke a key by its id (see rag users list)"))
    revoke.add_argument("key", help="the key id, or the whole key")
    revoke.set_defaults(func=run_keys_revoke)


def _with_index(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--index", dest="index_dir", metavar="DIR", help="index folder (default: data/index)")
    return parser


def _access(args):
    from core.config import load_settings
    from rag.access import AccessStore

    return AccessStore(load_settings(index_dir=args.index_dir).index_dir)


def run_users_add(args) -> int:
    """`rag users add NAME [--admin]`."""
    _access(args).add_user(args.name, admin=args.admin)
    role = "admin" if args.admin else "user (no collections yet: rag users grant)"
    print(f"added {role} {args.name}; auth is now on: create a key with `rag keys create {args.name}`")
    return 0


def run_users_grant(args) -> int:
    """`rag users grant NAME COLLECTION --read|--write`."""
    _access(args).grant(args.name, args.collection, write=args.write)
    print(f"{args.name} may now {'read and write' if args.write else 'read'} {args.collection}")
    return 0


def run_users_ungrant(args) -> int:
    """`rag users ungrant NAME COLLECTION`."""
    had = _access(args).revoke_grant(args.name, args.collection)
    print(f"{args.name} {'no longer has' if had else 'had no'} access to {args.collection}")
    return 0


def run_users_list(args) -> int:
    """`rag users list [--json]`."""
    users = _access(args).users()
    if args.json:
        print(json.dumps(users, indent=2))
        return 0
    for u in users:
        grants = ", ".join(f"{c}:{'rw' if c in u['write'] else 'r'}" for c in u["read"]) or "-"
        print(
            f"{u['name']}{' (admin)' if u['admin'] else ''}  collections: {grants}  keys: {' '.join(u['keys']) or '-'}"
        )
    return 0


def run_keys_create(args) -> int:
    """`rag keys create NAME`: prints the key once."""
    key = _access(args).create_key(args.name)
    print(key)
    print(f"(the key for {args.name}; it is shown only this once, keep it secret)", flush=True)
    return 0


def run_keys_revoke(args) -> int:
    """`rag keys revoke KEY_ID`."""
    user = _access(args).revoke_key(args.key)
    print(f"revoked; requests with that key of {user} now get 401")
    return 0
