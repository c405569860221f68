"""The desktop app: everything that imports Qt lives in this package, and only here."""

# The core modules the app uses, imported before Qt is: once PySide6 is loaded it inspects the module behind
# every import statement (reading its source), which makes the app start about 45 ms later if these come after.
# Not plotdata (8 ms) nor interchange: only the timeline, the report, import and export use them; nor cohort (the
# worklist's queries), safety (network shares, backups, outputs) nor witness and platformdirs (the audit anchor
# and its folder): all after the first paint.
from .. import course, db, registry, summary, wording  # noqa: F401
