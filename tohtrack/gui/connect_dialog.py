"""File → Connect to clinic server…: host, port, database, user, TLS mode and a password, as a libpq URL.

The password typed here goes to the connection only: it is put into the URL handed to the storage gateway
(which keeps it in memory to reconnect after the server was away) and never into the settings, the recent
list, a message, the window title or the audit trail; those see `public_url` (the URL without a password). An
empty password field leaves it to libpq's own ways: ~/.pgpass, $PGPASSWORD or a service file.
"""

from __future__ import annotations

import urllib.parse
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from ..store import is_server_url, open_store as gateway_open
from ..store.errors import (AuthenticationFailed, BackendMissing, DatabaseTooNew, NotATohtrackDatabase,
                            PermissionRefused, ServerUnavailable, StoreBusy, StoreError, UnknownDatabase)

DEFAULT_PORT = 5432
#: libpq's sslmode values offered (with what each means to a clinic), the first the default.
TLS_MODES = (
    ("prefer", "prefer (encrypted when the server offers it)"),
    ("require", "require (always encrypted)"),
    ("verify-full", "verify-full (encrypted, server certificate checked)"),
    ("disable", "disable (never encrypted: a local socket only)"),
)

ERROR_STYLE = "QLabel#connect_error { color: #b00020; }"


def build_url(host: str, port: int, database: str, user: str, sslmode: str = "prefer") -> str:
    """A libpq URL without a password. A host that is a folder (starting '/') is a Unix socket's: it goes into
    the query as `host=`, as libpq reads it."""
    host, database, user = host.strip(), database.strip(), user.strip()
    quote = lambda text: urllib.parse.quote(text, safe="")  # noqa: E731
    query = {}
    if host.startswith("/"):
        query["host"] = host
        netloc = ""
    elif ":" in host:  # an IPv6 address
        netloc = f"[{host.strip('[]')}]"
    else:
        netloc = quote(host)
    if port and port != DEFAULT_PORT:
        if netloc:
            netloc += f":{int(port)}"
        else:
            query["port"] = str(int(port))
    elif netloc and port:
        netloc += f":{int(port)}"
    if user:
        netloc = f"{quote(user)}@{netloc}"
    if sslmode and sslmode != "prefer":
        query["sslmode"] = sslmode
    text = f"postgresql://{netloc}/{quote(database)}"
    return text + ("?" + urllib.parse.urlencode(query, safe="/") if query else "")


def with_password(url: str, password: str) -> str:
    """The URL with this password in its user part (for the connection only: never shown nor kept)."""
    if not password:
        return url
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    user = user.split(":", 1)[0] if at else ""
    return f"{scheme}://{user}:{urllib.parse.quote(password, safe='')}@{host}{slash}{tail}"


def public_url(url: str) -> str:
    """The URL as it may be shown and kept (recent list, title, messages): without a password, in the user part
    or in the query; the rest (socket folder, port, sslmode, service) kept, so that it connects again."""
    scheme, _, rest = url.strip().partition("://")
    rest, question, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        user, _, host = authority.rpartition("@")
        user = user.split(":", 1)[0]
        authority = f"{user}@{host}" if user else host
    kept = [p for p in query.split("&") if p and not p.lower().startswith("password=")]
    return f"{scheme}://{authority}{slash}{path}" + ("?" + "&".join(kept) if kept else "")


def parse_url(url: str) -> dict:
    """The dialog's fields from a URL (one of the recent list): host, port, database, user, sslmode."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    try:
        port = parts.port or int(query.get("port") or DEFAULT_PORT)
    except ValueError:
        port = DEFAULT_PORT
    return {"host": urllib.parse.unquote(parts.hostname or "") or query.get("host", ""),
            "port": port,
            "database": urllib.parse.unquote(parts.path.lstrip("/")) or query.get("dbname", ""),
            "user": urllib.parse.unquote(parts.username or "") or query.get("user", ""),
            "sslmode": query.get("sslmode", "prefer")}


def is_server_away(exc: BaseException) -> bool:
    """Whether an error says the clinic server cannot be reached (stopped, restarting, the connection lost)."""
    return isinstance(exc, ServerUnavailable)


def server_problem(exc: StoreError, shown: str) -> str:
    """Why connecting to the server `shown` (its URL without a password) failed, in plain words."""
    if isinstance(exc, AuthenticationFailed):
        return (f"The server refused the login for {shown}: the user name or the password is wrong (or this "
                "workstation is not allowed in). Check them and try again.")
    if isinstance(exc, UnknownDatabase):
        return f"The server has no database of that name ({shown}). Check the database name."
    if isinstance(exc, PermissionRefused):
        return (f"This login may not use the database {shown}. Ask the clinic's TOHtrack administrator to add it "
                "(tohtrack admin add-user).")
    if isinstance(exc, DatabaseTooNew):
        return (f"The database {shown} was set up by a newer version of TOHtrack. Update TOHtrack on this "
                "workstation to use it; nothing was changed.")
    if isinstance(exc, NotATohtrackDatabase):
        return (f"The database {shown} is not a TOHtrack database (or not set up yet: its owner runs "
                "'tohtrack admin init'). Nothing was changed.")
    if isinstance(exc, BackendMissing):
        return "This TOHtrack was installed without PostgreSQL support, so it cannot connect to a clinic server."
    if is_server_away(exc):
        return (f"The clinic server cannot be reached ({shown}): it may be stopped or restarting, or the network "
                "is down. Check the host name and port, or try again in a moment.")
    if isinstance(exc, StoreBusy):
        return "The clinic server is busy. Try again in a moment."
    return f"TOHtrack could not connect to {shown}: {exc}"


class ConnectDialog(QDialog):
    """Connect to a clinic server. On success `store` is the open database and `url` its URL without a
    password; on failure the dialog says why and stays open with what was typed."""

    def __init__(self, parent: QWidget | None = None, initial: str | None = None, clinician: str = "",
                 opener: Callable[..., object] = gateway_open, error: str = ""):
        super().__init__(parent)
        self.setObjectName("connect_dialog")
        self.setWindowTitle("Connect to clinic server")
        self.setStyleSheet(ERROR_STYLE)
        self._opener = opener
        self._clinician = clinician
        self.store = None
        self.url = ""
        form = QFormLayout()
        self.host = QLineEdit(self, objectName="host")
        self.host.setPlaceholderText("server name or address, e.g. tohtrack.clinic.local")
        self.port = QSpinBox(self, objectName="port")
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.database = QLineEdit(self, objectName="database")
        self.database.setPlaceholderText("e.g. tohtrack")
        self.user = QLineEdit(self, objectName="user")
        self.user.setPlaceholderText("your login on the server")
        self.tls = QComboBox(self, objectName="tls")
        for value, label in TLS_MODES:
            self.tls.addItem(label, value)
        self.password = QLineEdit(self, objectName="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("empty: from ~/.pgpass or a service file")
        form.addRow("&Host:", self.host)
        form.addRow("&Port:", self.port)
        form.addRow("&Database:", self.database)
        form.addRow("&User:", self.user)
        form.addRow("&Encryption (TLS):", self.tls)
        form.addRow("Pass&word:", self.password)
        self.error = QLabel(self, objectName="connect_error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.connect_button = self.buttons.addButton("&Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setObjectName("connect_button")
        self.connect_button.setDefault(True)
        self.buttons.accepted.connect(self.try_connect)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if initial and is_server_url(initial):
            fields = parse_url(initial)
            self.host.setText(fields["host"])
            self.port.setValue(fields["port"])
            self.database.setText(fields["database"])
            self.user.setText(fields["user"])
            index = self.tls.findData(fields["sslmode"])
            self.tls.setCurrentIndex(max(index, 0))
            self.password.setFocus()
        if error:
            self.show_error(error)
        self.resize(460, self.sizeHint().height())

    def built_url(self) -> str:
        """The URL of what is typed, without a password."""
        return build_url(self.host.text(), self.port.value(), self.database.text(), self.user.text(),
                         self.tls.currentData())

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def try_connect(self) -> None:
        missing = [name for name, field in (("host", self.host), ("database", self.database)) if not field.text().strip()]
        if missing:
            self.show_error(f"Enter the {' and the '.join(missing)} of the clinic server.")
            (self.host if "host" in missing else self.database).setFocus()
            return
        url = self.built_url()
        self.show_error("")
        self.connect_button.setEnabled(False)
        self.setCursor(Qt.CursorShape.WaitCursor)
        try:
            self.store = self._opener(with_password(url, self.password.text()), clinician=self._clinician)
        except StoreError as exc:
            self.show_error(server_problem(exc, public_url(url)))
            self.password.selectAll()
            return
        finally:
            self.connect_button.setEnabled(True)
            self.unsetCursor()
        self.url = public_url(url)
        self.password.clear()  # not kept in a widget either
        self.accept()
