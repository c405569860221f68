"""Where the app's resources (stylesheet, icons, fonts) are: beside the package when installed, else the repo."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def root() -> Path:
    """The resources folder: tohtrack/resources in a wheel or bundle, resources/ in a checkout."""
    for candidate in (_PACKAGE / "resources", _PACKAGE.parent / "resources"):
        if (candidate / "styles").is_dir():
            return candidate
    raise FileNotFoundError("TOHtrack's resources folder is missing from this installation")


def path(*parts: str) -> Path:
    return root().joinpath(*parts)


def stylesheet() -> str:
    return path("styles", "clinic.qss").read_text(encoding="utf-8")
