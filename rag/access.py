"""Who may read and write which collections: users, API keys and grants, kept in the index's SQLite database.

The tables live beside the store's own (`access_users`, `access_grants`, `access_keys`), created with
CREATE TABLE IF NOT EXISTS on first use, so an index built before them keeps working unchanged.

API keys are `dqk_<key id>_<secret>`: the id is public (it names the key in `rag keys list/revoke`), the
secret is 256 random bits shown once and stored only as its SHA-256. A slow password hash (argon2, bcrypt)
protects secrets a person chose, which an attacker can guess; a 256-bit random secret cannot be guessed, so a
fast hash keeps each request's check under a microsecond without weakening it (the README says more).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from core.errors import IndexNotFound, RagError
from ingest.manifest import DB_FILE, utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_users (
    name TEXT PRIMARY KEY, admin INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access_grants (
    user TEXT NOT NULL, collection TEXT NOT NULL, can_write INTEGER NOT NULL, PRIMARY KEY (user, collection));
CREATE TABLE IF NOT EXISTS access_keys (
    key_id TEXT PRIMARY KEY, user TEXT NOT NULL, secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL,
    revoked_at TEXT);
"""
KEY_PREFIX = "dqk_"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
NAME_RULE = "1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"


class AccessError(RagError):
    """A user, key or grant that does not exist or cannot be created."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a user with their grants, or the single local user when auth is off."""

    name: str
    admin: bool = False
    readable: frozenset[str] = frozenset()
    writable: frozenset[str] = frozenset()

    def can_read(self, collection: str) -> bool:
        """True when this caller may read `collection`."""
        return self.admin or collection in self.readable

    def can_write(self, collection: str) -> bool:
        """True when this caller may add to or remove from `collection`."""
        return self.admin or collection in self.writable


LOCAL_USER = Principal("local", admin=True)  # auth off: one person on loopback, today's behaviour


def check_name(name: str, what: str = "name") -> str:
    """`name` itself when it is a valid user or collection name, else an AccessError with the rule."""
    if not _NAME_RE.match(name or ""):
        raise AccessError(f"invalid {what} {name!r}", f"use {NAME_RULE}")
    return name


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccessStore:
    """Users, grants and keys of one index. Connects on first use; thread-safe."""

    def __init__(self, index_dir: str | Path):
        self.db_path = Path(index_dir).expanduser() / DB_FILE
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection | None:
        """The connection, or None while the index has no database yet (then nobody has been added)."""
        if self._conn is None and self.db_path.exists():
            conn = sqlite3.connect(
                str(self.db_path), isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    def _write_db(self) -> sqlite3.Connection:
        conn = self._db()
        if conn is None:
            raise IndexNotFound(str(self.db_path.parent))
        return conn

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- reading ---

    def has_users(self) -> bool:
        """True once any user exists: from then on every request needs a key."""
        with self._lock:
            conn = self._db()
            return (
                conn is not None and conn.execute("SELECT 1 FROM access_users LIMIT 1").fetchone() is not None
            )

    def principal(self, name: str) -> Principal:
        """The user `name` with their grants; AccessError when there is no such user."""
        with self._lock:
            conn = self._write_db()
            row = conn.execute("SELECT admin FROM access_users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise AccessError(f"no user {name!r}", "list them with: rag users list")
            grants = conn.execute("SELECT collection, can_write FROM access_grants WHERE user = ?", (name,))
            grants = grants.fetchall()
        return Principal(
            name,
            admin=bool(row[0]),
            readable=frozenset(c for c, _ in grants),
            writable=frozenset(c for c, w in grants if w),
        )

    def authenticate(self, token: str) -> Principal | None:
        """The user a live API key belongs to, or None for a malformed, unknown or revoked key."""
        if not token.startswith(KEY_PREFIX) or token.count("_") < 2:
            return None
        key_id, secret = token[len(KEY_PREFIX) :].split("_", 1)
        with self._lock:
            conn = self._db()
            row = None
            if conn is not None:
                sql = "SELECT user, secret_sha256 FROM access_keys WHERE key_id = ? AND revoked_at IS NULL"
                row = conn.execute(sql, (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(row[1], _sha256(secret)):
            return None
        try:
            return self.principal(row[0])
        except AccessError:
            return None

    def users(self) -> list[dict]:
        """Every user with their grants and live key ids, sorted by name."""
        with self._lock:
            conn = self._db()
            if conn is None:
                return []
            users = conn.execute("SELECT name, admin FROM access_users ORDER BY name").fetchall()
            grants = conn.execute("SELECT user, collection, can_write FROM access_grants ORDER BY collection")
            grants = grants.fetchall()
            keys = conn.execute(
                "SELECT user, key_id FROM access_keys WHERE revoked_at IS NULL ORDER BY key_id"
            )
            keys = keys.fetchall()
        return [
            {
                "name": name,
                "admin": bool(admin),
                "read": [c for u, c, _ in grants if u == name],
                "write": [c for u, c, w in grants if u == name and w],
                "keys": [k for u, k in keys if u == name],
            }
            for name, admin in users
        ]

    # --- writing (operator commands: rag users / rag keys) ---

    def add_user(self, name: str, admin: bool = False) -> None:
        """Create a user; AccessError when the name is taken or invalid."""
        check_name(name, "user name")
        with self._lock:
            try:
                self._write_db().execute(
                    "INSERT INTO access_users VALUES (?, ?, ?)", (name, int(admin), utc_now())
                )
            except sqlite3.IntegrityError:
                raise AccessError(f"user {name!r} already exists", "pick another name") from None

    def grant(self, name: str, collection: str, write: bool) -> None:
        """Let `name` read `collection` (and write it when `write`); replaces an earlier grant."""
        check_name(collection, "collection name")
        self.principal(name)  # the user must exist
        with self._lock:
            self._write_db().execute(
                "INSERT OR REPLACE INTO access_grants VALUES (?, ?, ?)", (name, collection, int(write))
            )

    def revoke_grant(self, name: str, collection: str) -> bool:
        """Take away `name`'s access to `collection`; True when there was a grant."""
        with self._lock:
            cur = self._write_db().execute(
                "DELETE FROM access_grants WHERE user = ? AND collection = ?", (name, collection)
            )
        return cur.rowcount > 0

    def create_key(self, name: str) -> str:
        """A new API key for `name`: returned once, stored only as its hash."""
        self.principal(name)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self._lock:
            self._write_db().execute(
                "INSERT INTO access_keys VALUES (?, ?, ?, ?, NULL)",
                (key_id, name, _sha256(secret), utc_now()),
            )
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def revoke_key(self, key_or_id: str) -> str:
        """Revoke a key given by its id (or the whole key); returns the user it belonged to."""
        key_id = (
            key_or_id[len(KEY_PREFIX) :].split("_", 1)[0] if key_or_id.startswith(KEY_PREFIX) else key_or_id
        )
        with self._lock:
            conn = self._write_db()
            row = conn.execute(
                "SELECT user FROM access_keys WHERE key_id = ? AND revoked_at IS NULL", (key_id,)
            ).fetchone()
            if row is None:
                raise AccessError(f"no live key {key_id!r}", "list them with: rag users list")
            conn.execute("UPDATE access_keys SET revoked_at = ? WHERE key_id = ?", (utc_now(), key_id))
        return row[0]


NO_COLLECTION = ""  # no collection can have this name (check_name), so a filter on it matches nothing


def read_filters(principal: Principal, requested=(), path_glob: str = "", file_types=()):
    """The retrieval filter for a read: the requested collections the caller may read (all readable ones
    when none is requested). A forbidden collection is dropped exactly like one that does not exist."""
    from rag.filters import Filters

    wanted = frozenset(requested) if requested else None
    if principal.admin:
        allowed = wanted
    else:
        allowed = principal.readable if wanted is None else principal.readable & wanted
    collections = () if allowed is None else (tuple(sorted(allowed)) or (NO_COLLECTION,))
    return Filters(path_glob or "", tuple(file_types or ()), collections)
