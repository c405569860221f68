"""The desktop app: everything that imports Qt lives in this package, and only here."""

# The core modules the app uses, imported before Qt is: once PySide6 is loaded it inspects the module behind
# every import statement (reading its source), which makes the app start about 45 ms later if these come after.
from .. import cohort, course, db, interchange, plotdata, registry, safety, summary, wording  # noqa: F401
