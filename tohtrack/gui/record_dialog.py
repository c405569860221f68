"""The behaviour the record dialogs share: validation as you type, saving, conflicts and reload."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from PySide6.QtCore import QDate, QEvent, QObject, QTime
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDateTimeEdit, QDialog,
                               QDialogButtonBox, QLabel, QLineEdit, QPlainTextEdit, QTimeEdit, QWidget)

from ..db import ConflictError, StoreError
from ..model import MAX_LONG_TEXT, Problem, ValidationError
from . import resources

#: The error labels' colours on a dark palette (the forms carry the light ones).
ERROR_STYLE_DARK = 'QLabel { color: #ff8a80; }\nQLabel[pending="true"] { color: #b0b0b0; }'

#: Items of a yes / no / not assessed finding.
YES_NO = (("not assessed", None), ("yes", True), ("no", False))

_NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_PATH_FIELD_RE = re.compile(r"^\.?([A-Za-z_][A-Za-z0-9_]*)")
#: Characters no record's text may hold (the tohtrack/1 reader refuses them, so an export would not import).
#: Invisible, and only ever pasted in: line edits drop them as they arrive, text boxes as they are read.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------------------
# Widget helpers
# ---------------------------------------------------------------------------


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """Text ending with a full stop."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def fill_combo(combo: QComboBox, items: Iterable[tuple[str, Any]]) -> None:
    """Replace a combo box's items with (label, data) pairs."""
    combo.clear()
    for label, data in items:
        combo.addItem(label, data)


def select_data(combo: QComboBox, value: Any) -> None:
    """Select the item whose data is `value` (None selects nothing unless an item holds None).

    A value the list does not know is added as its own item, so that it is shown and kept, never lost.
    """
    for i in range(combo.count()):
        data = combo.itemData(i)
        if data is value or (type(data) is type(value) and data == value):
            combo.setCurrentIndex(i)
            return
    if value is None:
        combo.setCurrentIndex(-1)
        return
    combo.addItem(f"{value} (unknown code)", value)
    combo.setCurrentIndex(combo.count() - 1)


def set_date(edit: QDateEdit, value: dt.date, today: dt.date) -> None:
    """Show a date; one after today (imported, or a wrong clock) widens the range so it is not clamped."""
    if value > today:
        edit.setMaximumDate(QDate(value.year, value.month, value.day))
    edit.setDate(QDate(value.year, value.month, value.day))


def date_of(edit: QDateEdit) -> dt.date:
    return edit.date().toPython()


def format_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number(text: str, field: str, problems: list[Problem]) -> float | int | None:
    """A typed number ('.' or ',' as the decimal separator); empty = not recorded."""
    text = text.strip()
    if not text:
        return None
    if not _NUMBER_RE.match(text):
        problems.append(Problem(field, f"{text!r} is not a number"))
        return None
    if _INTEGER_RE.match(text):
        return int(text)
    value = float(text.replace(",", "."))
    if not math.isfinite(value):
        problems.append(Problem(field, f"{text!r} is not a number"))
        return None
    return value


def long_text(edit: QPlainTextEdit, field: str, problems: list[Problem], limit: int = MAX_LONG_TEXT) -> str:
    """A text box's text, without control characters (invisible, pasted in; tab and line breaks stay)."""
    text = CONTROL_CHARACTERS.sub("", edit.toPlainText())
    if len(text) > limit:
        problems.append(Problem(field, f"is {len(text)} characters long (at most {limit})"))
    return text


def checked_codes(boxes: dict[str, QCheckBox], before: list[str]) -> list[str]:
    """The ticked codes, keeping the order of the record being edited (so an untouched list is unchanged)."""
    ticked = {code for code, box in boxes.items() if box.isChecked()}
    kept = [code for code in before if code in ticked]
    return kept + [code for code in boxes if code in ticked and code not in kept]


class NoControlCharacters(QValidator):
    """A line edit's validator that drops control characters from what is typed or pasted."""

    def validate(self, text: str, pos: int):
        if not CONTROL_CHARACTERS.search(text):
            return QValidator.State.Acceptable, text, pos
        before = text.encode("utf-16-le", "surrogatepass")[:2 * pos].decode("utf-16-le", "ignore")  # Qt counts UTF-16
        kept = CONTROL_CHARACTERS.sub("", before).encode("utf-16-le", "surrogatepass")
        return QValidator.State.Acceptable, CONTROL_CHARACTERS.sub("", text), len(kept) // 2


def set_flag(widget: QWidget, name: str, value: bool) -> None:
    """Set a dynamic property the stylesheet reads, and restyle the widget if it changed."""
    if bool(widget.property(name)) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def path_field(path: str) -> str:
    """The field a problem path names: 'mrn', '.mrn' -> 'mrn'; 'edema_regions[1]' -> 'edema_regions'."""
    found = _PATH_FIELD_RE.match(path or "")
    return found.group(1) if found else ""


class SeparatorKeys(QObject):
    """Lets dates and times be typed with their separators ('1970-05-04', '08:40').

    A date edit moves on to the next section by itself once a section is complete (after '1970'); a '-'
    typed right then would skip a further section and put the month into the day. Such a separator is
    swallowed; anywhere else it moves on as usual.
    """

    SEPARATORS = "-/.:"

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._last: tuple[QObject, Any] | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QDateTimeEdit):
            text = event.text()
            if text.isdigit():
                self._last = (watched, watched.currentSection())
            elif text and text in self.SEPARATORS:
                last, self._last = self._last, None
                if last is not None and last[0] is watched and watched.currentSection() != last[1]:
                    return True
            else:
                self._last = None
        return False


# ---------------------------------------------------------------------------
# The base dialog
# ---------------------------------------------------------------------------


class RecordDialog(QDialog):
    """A dialog editing one record: its form, its fields, and the save/reload contract.

    Subclasses set `form_class`, `record_class`, `noun` and `fields` (field names; the form has a widget of
    that name and a `<field>_error` label), and implement `setup`, `fill`, `read`, `check` and `title`.
    """

    form_class: ClassVar[type]
    record_class: ClassVar[type]
    noun: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    #: Fields a new record needs the user to set even though the widget shows a value, with the message.
    must_set: ClassVar[dict[str, str]] = {}

    def __init__(self, parent: QWidget | None, original: Any, *, today: dt.date | None,
                 save: Callable[[Any], Any], reload: Callable[[], Any] | None = None):
        super().__init__(parent)
        self.ui = self.form_class()
        self.ui.setupUi(self)
        resources.style(self)  # how a field with a problem looks (its invalid property), at the app's text size
        self.today = today or dt.date.today()
        self.original = original
        self.saved: Any = None
        self._save = save
        self._reload = reload
        self._filling = False
        self._touched: set[str] = set()
        self._unset: set[str] = set()
        self._server: dict[str, list[str]] = {}
        self._gone = False
        self._banner_text = ""
        self._banner_kind = "error"
        self.ok_button = self.ui.button_box.button(QDialogButtonBox.StandardButton.Ok)
        if self.palette().window().color().lightness() < 128:
            for field in self.fields:
                getattr(self.ui, f"{field}_error").setStyleSheet(ERROR_STYLE_DARK)
        self._separator_keys = SeparatorKeys(self)
        for edit in self.findChildren(QDateTimeEdit):
            edit.installEventFilter(self._separator_keys)
        self.setup()
        self._fill_from(original)
        self._watch()
        self.ui.button_box.accepted.connect(self._on_ok)
        self.ui.button_box.rejected.connect(self.reject)
        self.ui.reload_button.clicked.connect(self._on_reload)
        self.validate()

    # -- what subclasses provide --------------------------------------------------

    def setup(self) -> None:
        """Fill code lists and set ranges (once)."""

    def fill(self, record: Any | None) -> None:
        """Show a record (None: a new one) in the widgets."""
        raise NotImplementedError

    def read(self) -> tuple[Any, list[Problem]]:
        """The record as typed, and the problems of reading it (numbers that are not numbers, ...)."""
        raise NotImplementedError

    def check(self, record: Any) -> list[Problem]:
        """The model's rules for the record."""
        raise NotImplementedError

    def title(self) -> str:
        raise NotImplementedError

    # -- the contract -----------------------------------------------------------------

    def record(self) -> Any:
        """The record as currently typed: a new instance (an edited one keeps its id, version and lists)."""
        return self.read()[0]

    def build(self, **values: Any) -> Any:
        """A record of the dialog's class from the typed values, keeping what the dialog does not edit."""
        if self.original is not None:
            return dataclasses.replace(self.original, **values)
        return self.record_class(**values)

    # -- filling and watching -------------------------------------------------------

    def _fill_from(self, record: Any | None) -> None:
        self._filling = True
        try:
            self.fill(record)
        finally:
            self._filling = False
        self._touched = set(self.fields) if record is not None else set()
        self._unset = set() if record is not None else set(self.must_set)
        self.setWindowTitle(self.title())

    def field_widgets(self, field: str) -> list[QWidget]:
        """The widgets whose edits change a field."""
        widget = getattr(self.ui, field)
        widgets = [widget]
        check = getattr(self.ui, f"{field}_check", None)
        if check is not None:
            widgets.append(check)
        if type(widget) is QWidget:  # a group of check boxes
            widgets += widget.findChildren(QCheckBox)
        return widgets

    def _watch(self) -> None:
        for field in self.fields:
            for widget in self.field_widgets(field):
                if isinstance(widget, QLineEdit):  # a text box's are left out as it is read (long_text)
                    widget.setValidator(NoControlCharacters(widget))
                signal = _change_signal(widget)
                if signal is not None:
                    signal.connect(lambda *_, f=field, w=widget: self._edited(f, w))
                widget.installEventFilter(self)
                if isinstance(widget, QDateEdit) and widget.calendarPopup():
                    widget.calendarWidget().clicked.connect(lambda *_, f=field: self._edited(f, None))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and not self._filling:
            field = self._field_of_widget(watched)
            if field and field not in self._touched:
                self._touched.add(field)
                self.validate()
        return super().eventFilter(watched, event)

    def _field_of_widget(self, widget: QObject) -> str | None:
        for field in self.fields:
            if widget in self.field_widgets(field):
                return field
        return None

    def _edited(self, field: str, widget: QWidget | None) -> None:
        if self._filling:
            return
        self._touched.add(field)
        self._server.pop(field, None)
        self._unset.discard(field)
        self.validate()

    # -- validation -------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every problem of the record as typed (reading, rules, fields still to set)."""
        record, problems = self.read()
        problems = list(problems) + self.check(record)
        for field in self.fields:
            if field in self._unset:
                problems.append(Problem(field, self.must_set[field]))
        return problems

    def validate(self) -> list[Problem]:
        """Check the record as typed, show each problem beside its field, and allow OK only without any."""
        problems = self.problems()
        by_field: dict[str, list[str]] = {field: [] for field in self.fields}
        elsewhere: list[str] = []
        for problem in problems:
            field = path_field(problem.path)
            if field in by_field:
                by_field[field].append(self.wording(field, problem.message))
            else:
                elsewhere.append(capital(str(problem)))
        for field, messages in self._server.items():
            by_field[field] += messages
        for field, messages in by_field.items():
            self._show(field, list(dict.fromkeys(messages)), pending=field not in self._touched)
        self._show_banner(elsewhere)
        self.ok_button.setEnabled(not problems and not self._server and not self._gone)
        return problems

    def wording(self, field: str, message: str) -> str:
        """A rule's message in the words shown beside the field ('is empty' -> 'MRN is required')."""
        if message == "is empty":
            message = "is required"
        if message.startswith(("is ", "has ")):
            return f"{self.field_name(field)} {message}"
        return capital(message)

    def field_name(self, field: str) -> str:
        label = getattr(self.ui, f"{field}_label", None) or getattr(self.ui, f"{field}_check", None)
        if label is None:
            return capital(field.replace("_", " "))
        text = label.text().replace("&", "")
        return re.sub(r"\s*\(.*\)$", "", text)

    def field_shown(self, field: str) -> bool:
        """Whether a field's row is on screen (the imaging dialog hides some per modality)."""
        return True

    def _show(self, field: str, messages: list[str], pending: bool) -> None:
        label: QLabel = getattr(self.ui, f"{field}_error")
        text = "\n".join(messages)
        if label.text() != text:
            label.setText(text)
        label.setVisible(bool(text) and self.field_shown(field))
        set_flag(label, "pending", pending)
        invalid = bool(text) and not pending
        for widget in self.mark_widgets(field):
            set_flag(widget, "invalid", invalid)
            widget.setAccessibleDescription(text)

    def mark_widgets(self, field: str) -> list[QWidget]:
        """The widgets coloured when a field has a problem."""
        return [getattr(self.ui, field)]

    # -- banner ------------------------------------------------------------------------

    def _set_banner(self, text: str, kind: str = "error", reload: bool = False) -> None:
        self._banner_text = text
        self._banner_kind = kind
        self.ui.reload_button.setVisible(reload)
        self._show_banner([])

    def _show_banner(self, extra: list[str]) -> None:
        text = "\n".join(t for t in [self._banner_text, *extra] if t)
        banner = self.ui.banner
        if banner.text() != text:
            banner.setText(text)
        kind = self._banner_kind if self._banner_text else "error"
        if banner.property("kind") != kind:
            banner.setProperty("kind", kind)
            banner.style().unpolish(banner)
            banner.style().polish(banner)
        banner.setVisible(bool(text))

    # -- OK, save, reload --------------------------------------------------------------

    def _on_ok(self) -> None:
        self._touched = set(self.fields)
        if self.validate() or not self.ok_button.isEnabled():
            return
        record = self.record()
        self._set_banner("")
        try:
            result = self._save(record)
        except ValidationError as exc:
            elsewhere = []
            for problem in exc.problems:
                field = path_field(problem.path)
                if field in self.fields and self.field_shown(field):
                    self._server.setdefault(field, []).append(self.wording(field, problem.message))
                else:
                    elsewhere.append(capital(problem.message if not problem.path.strip(".") else str(problem)))
            if self._server:
                self._set_banner("\n".join(["Not saved: please correct what is marked below.", *elsewhere]))
            else:
                self._set_banner("Not saved: " + "\n".join(sentence(line) for line in elsewhere))
            self.validate()
            return
        except ConflictError as exc:
            offer = self._reload is not None
            hint = (" Reload replaces what you typed here with the saved version." if offer else
                    " Cancel, then open it again to see the saved version.")
            self._set_banner(f"Not saved: {sentence(str(exc))}{hint}", reload=offer)
            return
        except StoreError as exc:
            from .connect_dialog import is_server_away

            if is_server_away(exc):
                self._set_banner("Not saved: the clinic server cannot be reached (stopped, restarting, or the "
                                 "network is down). What you typed is still here; TOHtrack reconnects by itself: "
                                 "try OK again in a moment.")
                return
            self._set_banner(f"Not saved: {sentence(str(exc))} What you typed is still here; try OK again.")
            return
        self.saved = result
        self.accept()

    def _on_reload(self) -> None:
        if self._reload is None:
            return
        try:
            fresh = self._reload()
        except StoreError as exc:
            self._set_banner(f"Could not reload: {exc}", reload=True)
            return
        if fresh is None:
            self._gone = True
            self._set_banner(f"This {self.noun} is no longer in the database: another window or workstation "
                             "removed it. Cancel to close this window.")
            self.validate()
            return
        self.original = fresh
        self._server.clear()
        self._fill_from(fresh)
        self._set_banner(f"Reloaded the {self.noun} as saved elsewhere. Make your changes again, then OK.",
                         kind="info")
        self.validate()


def _change_signal(widget: QWidget):
    """The signal a widget sends when the user changes its value."""
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    if isinstance(widget, QPlainTextEdit):
        return widget.textChanged
    if isinstance(widget, QTimeEdit):
        return widget.timeChanged
    if isinstance(widget, QDateEdit):
        return widget.dateChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    return None  # a group of check boxes: each box has its own


def to_qtime(text: str | None) -> QTime:
    """'08:40' as a QTime (midnight when there is none)."""
    if not text:
        return QTime(0, 0)
    hours, _, minutes = text.partition(":")
    return QTime(int(hours), int(minutes))


def time_text(edit: QTimeEdit) -> str:
    """A time edit's time as HH:MM."""
    t = edit.time()
    return f"{t.hour():02d}:{t.minute():02d}"
