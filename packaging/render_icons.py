"""Render the app icon (resources/icons/tohtrack.svg) to the PNG sizes and the Windows and macOS icon files.

    python packaging/render_icons.py

writes resources/icons/tohtrack-{16..512}.png (the window icon and the Linux desktop icons) and
packaging/tohtrack.ico and packaging/tohtrack.icns (the executables' icons). The outputs are committed: run this
after editing the SVG. It needs only PySide6 (QtSvg renders the SVG), and the offscreen platform is enough.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SVG = ROOT / "resources" / "icons" / "tohtrack.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types are the same pixels at twice the point size).
_APP = None
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))


def png_path(size: int) -> Path:
    return SVG.with_name(f"tohtrack-{size}.png")


def render(sizes) -> dict[int, bytes]:
    """The SVG rendered at each size, as PNG bytes (transparent outside the rounded tile)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    global _APP
    _APP = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # QPainter needs one, kept while it paints
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SVG} is not an SVG that Qt can render")
    out = {}
    for size in sorted(set(sizes)):
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, "PNG"):
            raise SystemExit(f"render_icons: could not encode the {size} px PNG")
        buffer.close()
        out[size] = bytes(data)
    return out


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG images (read by Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(ICO_SIZES))
    offset = len(header) + 16 * len(ICO_SIZES)
    entries, blobs = b"", b""
    for size in ICO_SIZES:
        data = pngs[size]
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG images."""
    body = b"".join(kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    pngs = render(PNG_SIZES + (1024,))
    for size in PNG_SIZES:
        png_path(size).write_bytes(pngs[size])
    (HERE / "tohtrack.ico").write_bytes(ico(pngs))
    (HERE / "tohtrack.icns").write_bytes(icns(pngs))
    print(f"wrote {len(PNG_SIZES)} PNG sizes beside {SVG.name}, tohtrack.ico and tohtrack.icns in {HERE.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
