"""Entry script of the frozen app (PyInstaller): the same main() as the `tohtrack` console script."""

import multiprocessing
import sys

from tohtrack.__main__ import main

if __name__ == "__main__":
    # Nothing in TOHtrack starts processes today; this keeps a frozen child from re-running the CLI if a
    # library (or a later feature) ever uses multiprocessing's spawn method (Windows, macOS).
    multiprocessing.freeze_support()
    sys.exit(main())
