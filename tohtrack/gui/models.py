"""Qt item models over the registry and the review worklist; the patient list loads page by page."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

from .. import registry, wording
from ..db import Store
from ..model import site_label
from ..model import isolate_mrn
from ..registry import Filters, PatientRow

if TYPE_CHECKING:  # the worklist's module loads when the worklist is first shown
    from ..cohort import WorklistEntry

Role = Qt.ItemDataRole
_NO_PARENT = QModelIndex()
SEX_LABELS = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Unknown"}
#: The sex as the patient list's second line says it ("48 y · male").
SEX_WORDS = {"male": "male", "female": "female", "other": "other sex", "unknown": "sex unknown"}


def sites_text(sites: Sequence[str]) -> str:
    """'Left hip, Right knee'."""
    return ", ".join(site_label(site, capital=True) for site in sites)


def short_site(site: str) -> str:
    """'hip_left' -> 'L hip': the patient list's short form (its tooltip says 'Left hip')."""
    joint, _, side = site.partition("_")
    return f"{side[:1].upper()} {joint}" if side else joint


def short_sites_text(sites: Sequence[str]) -> str:
    """'L hip, R knee'."""
    return ", ".join(short_site(site) for site in sites)


def review_cell(entry: WorklistEntry) -> str:
    """The worklist's review cell, two short lines: 'Overdue, 17 days' over 'missed 12 Feb 2026'; 'Due in 3 days'
    over '20 Feb 2026'; else the next review's date (never a later date beside 'Overdue')."""
    as_of = entry.as_of or dt.date.today()
    if entry.overdue:
        if entry.missed_review is None:
            return "Overdue\na review was missed"
        return (f"Overdue, {wording.days_text((as_of - entry.missed_review).days)}\n"
                f"missed {wording.date_text(entry.missed_review)}")
    if entry.due and entry.next_review is not None:
        days = (entry.next_review - as_of).days
        when = "today" if days == 0 else f"in {wording.days_text(days)}" if days > 0 else \
            f"{wording.days_text(-days)} ago"
        return f"Due {when}\n{wording.date_text(entry.next_review)}"
    return wording.date_text(entry.next_review) if entry.next_review else "none scheduled"


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


# ---------------------------------------------------------------------------
# Colours from the palette, so that light and dark themes both read well
# ---------------------------------------------------------------------------


def _palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def _blend(base: QColor, tint: QColor, amount: float) -> QColor:
    return QColor.fromRgbF(*(b + (t - b) * amount for b, t in
                             zip(base.getRgbF()[:3], tint.getRgbF()[:3])))


#: The warning hue of overdue reviews (a clinical red-orange).
WARNING_HUE = QColor(222, 74, 46)


def warning_background(palette: QPalette) -> QColor:
    """The base colour tinted toward the warning hue: text in the palette's Text colour stays readable."""
    return _blend(palette.color(QPalette.ColorRole.Base), WARNING_HUE, 0.30 if is_dark(palette) else 0.16)


def warning_text(palette: QPalette) -> QColor:
    """A warning-coloured text that reads on the palette's base (dark red on light, light red on dark)."""
    return QColor(255, 171, 145) if is_dark(palette) else QColor(165, 29, 10)


def muted_text(palette: QPalette) -> QColor:
    """Grey text for archived patients: the palette's placeholder colour, made opaque over the base."""
    placeholder = palette.color(QPalette.ColorRole.PlaceholderText)
    base = palette.color(QPalette.ColorRole.Base)
    return _blend(base, placeholder, placeholder.alphaF()) if placeholder.alpha() < 255 else placeholder


#: A row's flags, combined once: views ask for every cell they paint, and each `|` of Python enum flags costs.
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class _PatientTable(QAbstractTableModel):
    """A read-only table of rows that each name a patient; subclasses say where the rows are."""

    COLUMNS: tuple[str, ...] = ()

    def _items(self) -> list:
        raise NotImplementedError

    @staticmethod
    def _patient_of(item) -> int:
        raise NotImplementedError

    def patient_id(self, row: int) -> int | None:
        items = self._items()
        return self._patient_of(items[row]) if 0 <= row < len(items) else None

    def row_of(self, patient_id: int) -> int:
        """The row of a (loaded) patient, or -1."""
        return next((i for i, item in enumerate(self._items()) if self._patient_of(item) == patient_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._items())

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags


# ---------------------------------------------------------------------------
# The patient list
# ---------------------------------------------------------------------------


class PatientListModel(_PatientTable):
    """Registry search results, loaded a page at a time (keyset pages) as the view scrolls."""

    #: Two-line rows, so that who, when born and what is active fit the list's pane beside the patient view at
    #: 1280 px: the birth date over the age and sex ("48 y · male"), the active sites over the latest onset.
    COLUMNS = ("MRN", "Name", "Born", "Active")
    MRN, NAME, BORN, SITES = range(4)
    #: The registry sort of each sortable column (the Active column sorts by the latest onset, its second line).
    SORTS = {MRN: "mrn", NAME: "name", BORN: "birth_date", SITES: "last_onset"}

    def __init__(self, store: Store, parent=None, page_size: int = registry.PAGE_SIZE):
        super().__init__(parent)
        self._store = store
        self._page = page_size
        self._rows: list[PatientRow] = []
        self._more = False
        self._text, self._filters, self._as_of = "", Filters(), None
        self._sort, self._descending = "name", False
        self._total: int | None = None

    # -- the query -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    def set_store(self, store: Store) -> None:
        """Show another database (after opening or restoring one)."""
        self._store = store
        self._reload()

    def set_query(self, text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None) -> None:
        """Search again from the first page."""
        self._text, self._filters, self._as_of = text, filters, as_of
        self._reload()

    def query(self) -> tuple[str, Filters, dt.date | None]:
        return self._text, self._filters, self._as_of

    @property
    def as_of(self) -> dt.date:
        return self._as_of or dt.date.today()

    def sort_column(self) -> int:
        return next(c for c, s in self.SORTS.items() if s == self._sort)

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def total(self) -> int:
        """How many patients match in all (not only those loaded so far)."""
        if self._total is None:
            self._total = registry.count(self._store, self._text, self._filters, self.as_of)
        return self._total

    def _fetch(self, after: tuple | None, limit: int) -> list[PatientRow]:
        return registry.search(self._store, self._text, self._filters, self.as_of, self._sort, self._descending,
                               limit, after)

    def _reload(self) -> None:
        self.beginResetModel()
        self._total = None
        self._rows = self._fetch(None, self._page)
        self._more = len(self._rows) == self._page
        self.endResetModel()

    def refresh(self) -> None:
        """Query again after a change, keeping as many rows as were loaded (and the views' selection)."""
        self._total = None
        count = max(len(self._rows), self._page)
        fresh = self._fetch(None, count)
        self._apply(fresh)
        self._more = len(fresh) == count

    def _apply(self, fresh: list[PatientRow]) -> None:
        """Turn the loaded rows into `fresh` with row removals, insertions and changes the views can follow."""
        old_ids = [r.id for r in self._rows]
        new_ids = [r.id for r in fresh]
        import difflib  # on the first change, not at start-up

        opcodes = difflib.SequenceMatcher(None, old_ids, new_ids, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(opcodes):  # from the end, so earlier positions stay valid
            if tag in ("delete", "replace"):
                self.beginRemoveRows(_NO_PARENT, i1, i2 - 1)
                del self._rows[i1:i2]
                self.endRemoveRows()
            if tag in ("insert", "replace"):
                self.beginInsertRows(_NO_PARENT, i1, i1 + (j2 - j1) - 1)
                self._rows[i1:i1] = fresh[j1:j2]
                self.endInsertRows()
            if tag == "equal":
                self._rows[i1:i2] = fresh[j1:j2]
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.COLUMNS) - 1))

    # -- lazy loading ----------------------------------------------------------------

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> None:
        if parent.isValid() or not self._more:
            return
        after = self._rows[-1].sort_key if self._rows else None
        rows = self._fetch(after, self._page)
        self._more = len(rows) == self._page
        if rows:
            start = len(self._rows)
            self.beginInsertRows(_NO_PARENT, start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    # -- rows ---------------------------------------------------------------------------

    def _items(self) -> list[PatientRow]:
        return self._rows

    @staticmethod
    def _patient_of(item: PatientRow) -> int:
        return item.id

    def patient_row(self, row: int) -> PatientRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- the model interface --------------------------------------------------------

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Role.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Role.DisplayRole:
            return self.COLUMNS[section]
        if role == Role.ToolTipRole:
            return {self.BORN: "Birth date, over the age on the as-of date and the sex",
                    self.SITES: "Sites with an episode active on the as-of date (L left, R right), over the latest "
                                "symptom onset up to the as-of date (sorted by that onset)"}.get(
                section, None if section in self.SORTS else "Not sortable")
        return None

    #: The roles `data` answers; views ask for a dozen for every cell they size or paint.
    ROLES = frozenset({Role.DisplayRole, Role.UserRole, Role.ToolTipRole, Role.FontRole, Role.ForegroundRole})

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Role.DisplayRole) -> Any:
        if role not in self.ROLES or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Role.DisplayRole:
            return self._text_of(row, column)
        if role == Role.UserRole:
            return row.id
        if role == Role.ToolTipRole:
            return self._tooltip(row)
        if row.archived:
            if role == Role.FontRole:
                font = QFont()
                font.setItalic(True)
                return font
            if role == Role.ForegroundRole:
                return muted_text(_palette())
        return None

    def _text_of(self, row: PatientRow, column: int) -> str:
        if column == self.MRN:
            return isolate_mrn(row.mrn)
        if column == self.NAME:
            return row.display_name
        if column == self.BORN:
            return (f"{row.birth_date.isoformat()}\n{registry.age_on(row.birth_date, self.as_of)} y · "
                    f"{SEX_WORDS.get(row.sex, row.sex)}")
        if column == self.SITES:
            return f"{short_sites_text(row.active_sites) or '—'}\n{_date(row.last_onset)}".rstrip("\n")
        return ""

    def _tooltip(self, row: PatientRow) -> str:
        lines = [f"{row.display_name} — MRN {isolate_mrn(row.mrn)}",
                 f"Born {row.birth_date.isoformat()}, aged {registry.age_on(row.birth_date, self.as_of)}"
                 f" on {self.as_of.isoformat()}", f"Sex: {SEX_LABELS.get(row.sex, row.sex).lower()}"]
        lines.append(f"Active: {sites_text(row.active_sites)}" if row.active_sites else "No active episode")
        if row.last_onset:
            lines.append(f"Last onset {row.last_onset.isoformat()}")
        if row.archived:
            lines.append("Archived")
        return "\n".join(lines)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Query again in the order of a sortable column (MRN, Name, Born, Active: by the latest onset)."""
        sort = self.SORTS.get(column)
        if sort is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (sort, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = sort, descending
        count = max(len(self._rows), self._page)
        fresh = self._fetch(None, count)
        if len(fresh) != len(self._rows):  # the data changed meanwhile: start over
            self.beginResetModel()
            self._rows, self._more, self._total = fresh, len(fresh) == count, None
            self.endResetModel()
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = [self.patient_id(index.row()) for index in old]
        self._rows, self._more = fresh, len(fresh) == count
        where = {r.id: i for i, r in enumerate(self._rows)}
        # Selections stay on the same patients (or go, if the patient is no longer among the loaded rows).
        self.changePersistentIndexList(old, [self.index(where[pid], index.column()) if pid in where else QModelIndex()
                                             for pid, index in zip(old_ids, old)])
        self.layoutChanged.emit()


# ---------------------------------------------------------------------------
# The review worklist
# ---------------------------------------------------------------------------


class WorklistModel(_PatientTable):
    """cohort.worklist entries: overdue rows tinted with the review they missed and how long ago, the most urgent
    flag in a few words (its whole message in the tooltip); the Reason column sorts by clinical urgency."""

    # What a 450-pixel pane must show without scrolling comes first: when (overdue, due), who, and why. The review
    # cell has two lines (the state, then the date: for an overdue patient, the review missed and how long ago).
    COLUMNS = ("Review", "Patient", "Reason")
    STATE, NAME, FLAG = range(3)
    NEXT_REVIEW = STATE

    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries: list[WorklistEntry] = []
        self._colours: tuple[int, QColor, QColor] | None = None
        self._sorted: tuple[int, Qt.SortOrder] | None = None  # the order last asked for, kept over refreshes

    def set_entries(self, entries: Sequence[WorklistEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        if self._sorted is not None:
            key = self._sort_keys().get(self._sorted[0])
            if key is not None:
                self._entries.sort(key=key, reverse=self._sorted[1] == Qt.SortOrder.DescendingOrder)
        self.endResetModel()

    def entries(self) -> list[WorklistEntry]:
        return list(self._entries)

    def _items(self) -> list[WorklistEntry]:
        return self._entries

    @staticmethod
    def _patient_of(item: WorklistEntry) -> int:
        return item.patient_id

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Role.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Role.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    #: The roles `data` answers; views ask for a dozen for every cell they size or paint.
    ROLES = frozenset({Role.DisplayRole, Role.UserRole, Role.ToolTipRole, Role.BackgroundRole, Role.ForegroundRole,
                       Role.FontRole})

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Role.DisplayRole) -> Any:
        if role not in self.ROLES or not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if role == Role.DisplayRole:
            return self._text_of(entry, column)
        if role == Role.UserRole:
            return entry.patient_id
        if role == Role.ToolTipRole:
            return self._tooltip(entry)
        if role == Role.BackgroundRole and entry.overdue:
            return self._warning_colours()[0]
        if role == Role.ForegroundRole and column == self.STATE and entry.overdue:
            return self._warning_colours()[1]
        if role == Role.FontRole and column == self.STATE and entry.due and not entry.overdue:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _warning_colours(self) -> tuple[QColor, QColor]:
        """The overdue rows' background and state text for the current palette (worked out once per palette:
        the view asks for them for every cell it sizes or paints)."""
        palette = _palette()
        key = palette.cacheKey()
        if self._colours is None or self._colours[0] != key:
            self._colours = (key, warning_background(palette), warning_text(palette))
        return self._colours[1], self._colours[2]

    def _text_of(self, entry: WorklistEntry, column: int) -> str:
        if column == self.STATE:
            return review_cell(entry)
        if column == self.NAME:
            return f"{entry.name}\n{isolate_mrn(entry.mrn)}"
        if column == self.FLAG:
            return wording.reason_text(entry.most_urgent, entry.flag_count - 1, lines=True)
        return ""

    def _tooltip(self, entry: WorklistEntry) -> str:
        lines = [f"{entry.name} — MRN {isolate_mrn(entry.mrn)}"]
        if entry.overdue:
            lines.append(entry.review_text[:1].upper() + entry.review_text[1:])
        elif entry.due:
            lines.append(f"Review {entry.review_text}")
        elif entry.next_review:
            lines.append(f"Next review {_date(entry.next_review)}")
        if entry.most_urgent:
            lines.append(entry.most_urgent.message)
            if entry.flag_count > 1:
                lines.append(f"and {entry.flag_count - 1} more flag{'s' if entry.flag_count > 2 else ''}")
        if entry.active_sites:
            lines.append(f"Active: {sites_text(entry.active_sites)}")
        lines.append({"regional_migratory_osteoporosis": "Regional migratory osteoporosis",
                      "transient_osteoporosis": "Transient osteoporosis"}.get(entry.pattern, ""))
        return "\n".join(line for line in lines if line)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the entries in place (they are all loaded), and again after each refresh: the review column sorts
        overdue (the longest missed first), due, then others; the reason column by clinical urgency."""
        key = self._sort_keys().get(column)
        if key is None:
            return
        self._sorted = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self._entries[i.row()].patient_id if 0 <= i.row() < len(self._entries) else None for i in old]
        self._entries.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        where = {e.patient_id: i for i, e in enumerate(self._entries)}
        self.changePersistentIndexList(old, [self.index(where[pid], i.column()) if pid in where else QModelIndex()
                                             for pid, i in zip(ids, old)])
        self.layoutChanged.emit()

    def _sort_keys(self) -> dict:
        return {
            self.STATE: lambda e: (0 if e.overdue else 1 if e.due else 2, e.missed_review or e.next_review
                                   or dt.date.max, e.mrn),
            self.NAME: lambda e: (e.name.casefold(), e.mrn),
            self.FLAG: lambda e: e.urgency,  # clinical order: the most urgent flag first
        }
