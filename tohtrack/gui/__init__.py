"""The desktop app: everything that imports Qt lives in this package, and only here."""

# The core modules the app uses, imported before Qt is: once PySide6 is loaded it inspects the module behind
# every import statement (reading its source), which makes the app start about 45 ms later if these come after.
# platformdirs too: the audit witness's folder is read before the first paint. Not plotdata (8 ms) nor interchange:
# only the timeline, the report, import and export use them, all after the first paint.
import platformdirs  # noqa: F401

from .. import cohort, course, db, registry, safety, summary, wording  # noqa: F401
