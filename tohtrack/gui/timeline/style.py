"""The plots' style: colours, lines, symbols and fonts, one picture for screen, paper and grey print.

Everything is opaque (PDF/A forbids transparency): shaded bands are light colours drawn beneath the curves.
Colours come from the Okabe–Ito palette and every series also differs in symbol or line style, so the plots
read with colour-blindness and in grey.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

from ...model import MODALITY_LABELS

#: Stacking order of the plot's layers, beneath to on top.
Z_EXTENSION, Z_WINDOW, Z_BAND, Z_BASELINE, Z_MARK_LINE, Z_SPAN, Z_CURVE, Z_POINTS, Z_LABEL = (
    -30, -20, -10, -5, 5, 8, 10, 20, 30)


@dataclass(frozen=True)
class Style:
    """Colours, lines, symbols and fonts of the plots: one picture for screen, paper and grey print."""

    font_family: str = ""
    tick_pt: float = 9.0
    label_pt: float = 9.5
    legend_pt: float = 9.0
    background: str = "#ffffff"
    text: str = "#1a1a1a"
    axis: str = "#4d4d4d"
    # Okabe–Ito colours for the series; each also has its own line style and symbol.
    extent: str = "#0072B2"
    pain: str = "#D55E00"
    function: str = "#009E73"
    # Opaque light fills beneath the curves; their greys differ too (window < extension in darkness).
    window_fill: str = "#cfe0ef"
    window_edge: str = "#7fa7c9"
    extension_fill: str = "#ebf1f7"
    band_fill: str = "#f3cf99"
    band_edge: str = "#a85a00"
    treatment_fill: str = "#dcdcdc"
    treatment_edge: str = "#6b6b6b"
    as_of: str = "#1a1a1a"
    resolved: str = "#009E73"
    #: A study that raised a warning flag (AVN signs, narrowed joint space): a ring around its mark.
    warning: str = "#A50021"
    # History lanes: status by fill darkness as well as colour; a revised diagnosis is grey with a dashed edge.
    active_fill: str = "#D55E00"
    resolved_fill: str = "#a6cfee"
    revised_fill: str = "#e0e0e0"
    bar_edge: str = "#333333"
    migration: str = "#CC79A7"
    recurrence: str = "#1a1a1a"
    multifocal: str = "#0072B2"
    lane_rule: str = "#e6e6e6"
    symbols: tuple[tuple[str, str], ...] = (("MRI", "o"), ("XR", "s"), ("NM", "t"), ("CT", "d"), ("other", "h"))
    symbol_size: float = 10.0
    #: Line widths are in device pixels: 2 on a screen at twice the size, the writer's dots per pixel in print.
    pen_scale: float = 1.0
    legend_rows: int = 6
    #: The x axis title in the free corner left of the tick labels, saving a text line (small screens).
    compact_x_title: bool = True

    def font(self, points: float | None = None, bold: bool = False) -> QFont:
        """The plot font at a point size (tick size by default)."""
        font = QFont(self.font_family) if self.font_family else QFont()
        font.setPointSizeF(points or self.tick_pt)
        font.setBold(bold)
        for tag in ("liga", "clig"):  # letters stay letters in a PDF's text ('fi', not one ligature glyph)
            font.setFeature(QFont.Tag(tag), 0)
        return font

    def pen(self, colour: str, width: float = 1.0, dash: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
        """A cosmetic pen, its width scaled to the device."""
        return _pen(colour, width * self.pen_scale, dash)

    def symbol(self, modality: str) -> str:
        """The symbol of a modality: MRI circle, radiograph square, scintigraphy triangle, CT diamond."""
        return dict(self.symbols).get(modality, dict(self.symbols)["other"])


STYLE = Style()


def _pen(colour: str, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A cosmetic pen (width in device pixels, whatever the scale)."""
    pen = QPen(QColor(colour), width, style)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


#: The longest legend label, in characters: a long instrument name must not squeeze the plot (hover has it whole).
LEGEND_CHARS = 26


def short(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def modality_label(modality: str) -> str:
    """'MRI', 'Radiograph', 'Bone scintigraphy'."""
    label = MODALITY_LABELS.get(modality, modality)
    return label[:1].upper() + label[1:]

