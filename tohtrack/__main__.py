"""The tohtrack command line (INTERFACE.md section 1). Imports Qt only for the desktop app."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Sequence

from . import __version__

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """A bad command-line value (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits 2: keep that, without a traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _date(text: str) -> dt.date:
    from .model import parse_date

    from .safety import LATEST_AS_OF

    try:
        day = parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if day > LATEST_AS_OF:
        raise argparse.ArgumentTypeError(f"{text!r} is too far ahead (the latest date is {LATEST_AS_OF.isoformat()})")
    return day


def _whole(low: int, high: int):
    """An argparse type: a whole number from low to high."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}–{high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the database file (default: $TOHTRACK_DB, else tohtrack.sqlite3 in the user data folder)")
    common.add_argument("--clinician", metavar="NAME", default=argparse.SUPPRESS,
                        help="who is making changes, recorded in the audit trail with the OS user")

    parser = _Parser(prog="tohtrack", parents=[common],
                     description="Follow patients with transient osteoporosis of the hip and "
                                 "regional migratory osteoporosis.")
    parser.add_argument("--version", action="version", version=f"TOHtrack {__version__}")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="save the main window as PNG (with --patient open, as of --as-of) and exit")
    parser.add_argument("--patient", dest="screenshot_patient", metavar="MRN",
                        help="with --screenshot: the patient to show")
    parser.add_argument("--as-of", dest="screenshot_as_of", type=_date, metavar="DATE",
                        help="with --screenshot: the as-of date of the assessment")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("demo", parents=[common], help="add a deterministic synthetic cohort")
    p.add_argument("--patients", type=_whole(1, 1_000_000), default=200, metavar="N", help="how many patients (default 200)")
    p.add_argument("--seed", type=_whole(0, 999_999), default=0, metavar="S", help="the cohort's seed (default 0)")

    p = sub.add_parser("import", parents=[common], help="import a tohtrack/1 JSON file or a FHIR R4 Bundle (all or nothing)")
    p.add_argument("file", metavar="FILE")

    p = sub.add_parser("export", parents=[common], help="write patients as tohtrack/1 JSON or a FHIR R4 Bundle")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write ('-' for stdout)")
    p.add_argument("--patient", action="append", metavar="MRN", help="only this patient (repeatable)")
    p.add_argument("--format", choices=("json", "fhir", "csv"), default="json",
                   help="tohtrack/1 JSON (default), a FHIR R4 Bundle, or tidy CSV for analysis (-o names a new "
                        "folder: one CSV per record type and datapackage.json)")
    p.add_argument("--deidentify", action="store_true",
                   help="with --format fhir: no names, MRNs, birth dates or free text; random ids, age bands, "
                        "each patient's dates shifted so the first onset falls on 2000-01-01; with --format csv: "
                        "random ids, age bands, dates as months since the first onset, no free text")
    p.add_argument("--as-of", type=_date, metavar="DATE",
                   help="with --format csv: the date the flags are assessed as of (default today)")
    p.add_argument("--fhir-transaction", action="store_true",
                   help="with --format fhir: a transaction bundle a FHIR server can load (default: a collection)")

    p = sub.add_parser("dicom", parents=[common], help="list the DICOM studies in a folder, DICOMDIR or zip")
    p.add_argument("path", metavar="PATH", help="a folder (searched recursively), a DICOMDIR, a zip or a file")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("import-dicom", parents=[common],
                       help="add the DICOM studies of a folder, DICOMDIR or zip to a patient's episodes")
    p.add_argument("path", metavar="PATH", help="a folder (searched recursively), a DICOMDIR, a zip or a file")
    p.add_argument("--patient", required=True, metavar="MRN", help="the patient the studies belong to")
    p.add_argument("--site", metavar="SITE", help="the episode site for every study (e.g. hip_left); needed "
                                                  "when body part and laterality do not name one")
    p.add_argument("--study", action="append", metavar="UID", help="only this Study Instance UID (repeatable)")
    p.add_argument("--force", action="store_true", help="import even when the DICOM patient ID is not the MRN")

    p = sub.add_parser("flags", parents=[common], help="the course assessment and its flags")
    p.add_argument("--patient", action="append", metavar="MRN", help="only this patient (repeatable)")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="evaluate as of this date (default today)")
    p.add_argument("--json", action="store_true", help="print JSON (INTERFACE.md section 3)")

    p = sub.add_parser("worklist", parents=[common], help="patients with active episodes, due or overdue first")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="as of this date (default today)")
    p.add_argument("--all", action="store_true", help="every patient with an active episode, not only those due")

    p = sub.add_parser("report", parents=[common], help="write a patient's timeline report as PDF")
    p.add_argument("mrn", metavar="MRN", help="the patient")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pdf", help="the PDF file to write")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the record as it stood on this date (default today)")
    p.add_argument("--deidentify", action="store_true",
                   help="leave out name, MRN, birth date, accession numbers and free text; age in 5-year bands, "
                        "dates as months since the first onset, a random report id")

    p = sub.add_parser("backup", parents=[common], help="an online, consistent copy of the database")
    p.add_argument("-o", "--output", required=True, metavar="FILE")

    p = sub.add_parser("restore", parents=[common], help="put a checked backup in place of the database")
    p.add_argument("backup", metavar="BACKUP")

    sub.add_parser("check", parents=[common], help="verify integrity and the audit trail")

    p = sub.add_parser("audit", parents=[common], help="print the audit trail")
    p.add_argument("--patient", metavar="MRN", help="only this patient's records")

    p = sub.add_parser("settings", parents=[common], help="print or change the clinic settings")
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")
    return parser


def _open(args, readonly: bool = False):
    """The database of --db, else the default one (created on first use).

    Commands that only read open it read-only: they never create a file at a mistyped --db, nor upgrade it.
    """
    from .db import Store, default_path

    explicit = getattr(args, "db", None)
    path = Path(explicit) if explicit else default_path()
    if readonly and (explicit or path.exists()):
        return Store(path, readonly=True)
    from .safety import network_share_warning

    warning = network_share_warning(path)
    if warning:
        print(f"tohtrack: warning: {warning}", file=sys.stderr)
    return Store(path, clinician=getattr(args, "clinician", "") or "")


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from . import demo

    start = time.perf_counter()
    with _open(args) as store:
        taken = store.all_mrns()
        patients = demo.generate(args.patients, seed=args.seed, taken=taken)
        with store.transaction():
            batch: list = []
            for patient in patients:
                batch.append(patient)
                if len(batch) == 5000:
                    store.add_patients(batch, validate=False)
                    batch = []
            store.add_patients(batch, validate=False)
    print(f"added {args.patients} demo patients (seed {args.seed}) in {time.perf_counter() - start:.1f} s")
    return EXIT_OK


def cmd_import(args) -> int:
    from . import fhir, interchange

    if fhir.is_bundle(args.file):
        return _import_fhir(args)
    with _open(args) as store:
        patients = interchange.import_file(store, args.file)
    episodes = sum(len(p.episodes) for p in patients)
    findings = sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for p in patients for e in p.episodes)
    print(f"imported {len(patients)} patients, {episodes} episodes, {findings} findings from {args.file}")
    return EXIT_OK


def _import_fhir(args) -> int:
    from . import fhir

    with _open(args) as store:
        patients, skipped = fhir.import_file(store, args.file)
    for line in fhir.skipped_summary(skipped):
        print(f"tohtrack: {args.file}: {line}", file=sys.stderr)
    episodes = sum(len(p.episodes) for p in patients)
    findings = sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for p in patients for e in p.episodes)
    print(f"imported {len(patients)} patients, {episodes} episodes, {findings} findings from the FHIR bundle "
          f"{args.file}" + (f" ({len(skipped)} entries skipped)" if skipped else ""))
    return EXIT_OK


def _export_fhir(args) -> int:
    from . import fhir

    options = fhir.ExportOptions(transaction=args.fhir_transaction, deidentify=args.deidentify)
    with _open(args, readonly=True) as store:
        text = fhir.dumps(fhir.export_bundle(store, args.patient, options))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        fhir.write(args.output, text)
    return EXIT_OK


def _export_csv(args) -> int:
    from . import tidy

    if args.fhir_transaction:
        raise UsageError("--fhir-transaction goes with --format fhir")
    if args.output == "-":
        raise UsageError("--format csv writes a folder: give -o the name of a new folder")
    tidy.check_target(args.output)  # before the database is opened
    with _open(args, readonly=True) as store:
        counts = tidy.export(store, args.output, args.as_of, args.deidentify, args.patient)
    what = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{'de-identified ' if args.deidentify else ''}CSV export written to {args.output}: {what}")
    return EXIT_OK


def _output_file(name: str) -> str:
    """An output path that is a file or nothing yet: writing through a temporary file and moving it into
    place would otherwise replace a device such as /dev/null, or fail on a folder."""
    if not name:
        raise UsageError("no output file named; give the name of a file to write")
    if os.path.exists(name) and not os.path.isfile(name):
        raise UsageError(f"{name}: is a folder or a device, not a file; give the name of a file to write")
    return name


def cmd_export(args) -> int:
    from . import interchange

    if args.format == "csv":
        return _export_csv(args)
    if args.as_of is not None:
        raise UsageError("--as-of goes with --format csv")
    if args.output != "-":
        _output_file(args.output)
    if args.format != "fhir" and (args.deidentify or args.fhir_transaction):
        raise UsageError("--deidentify and --fhir-transaction go with --format fhir or csv")
    if args.format == "fhir":
        return _export_fhir(args)
    with _open(args, readonly=True) as store:
        text = interchange.dumps(interchange.export_document(store, args.patient))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        interchange.write_file(args.output, text)
    return EXIT_OK


def _scan_dicom(path: str):
    from . import dicom

    try:
        return dicom.scan(path)
    except dicom.Unusable as exc:
        raise UsageError(str(exc)) from None


def cmd_dicom(args) -> int:
    from . import dicom

    found = _scan_dicom(args.path)
    if args.json:
        sys.stdout.write(json.dumps(found.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        for line in dicom.format_scan(found):
            print(line)
    return EXIT_OK


def cmd_import_dicom(args) -> int:
    from . import dicom
    from .model import Problem, ValidationError

    found = _scan_dicom(args.path)
    for name, reason in found.not_dicom + found.damaged + found.skipped:
        print(f"tohtrack: {args.path}: {name}: {reason}", file=sys.stderr)
    studies = found.studies
    if args.study:
        known = {s.study_instance_uid for s in studies}
        missing = [uid for uid in args.study if uid not in known]
        if missing:
            raise ValidationError([Problem("--study", f"{uid!r} is not among the studies found") for uid in missing])
        studies = [s for s in studies if s.study_instance_uid in args.study]
    if not studies:
        raise ValidationError([Problem(args.path, "no DICOM study found (see `tohtrack dicom PATH`)")])
    with _open(args) as store:
        result = dicom.import_studies(store, args.patient, studies, site=args.site, force=args.force)
    for study, site in result.added:
        print(f"added {study.label()} to the {site} episode")
    for study in result.already:
        print(f"skipped {study.label()}: already recorded")
    print(f"imported {len(result.added)} studies for {args.patient.strip()}"
          + (f" ({len(result.already)} already recorded)" if result.already else ""))
    return EXIT_OK


def cmd_flags(args) -> int:
    from . import course

    as_of = args.as_of or dt.date.today()
    encoded, lines = [], []
    with _open(args, readonly=True) as store:
        settings = store.settings()
        ids = list(dict.fromkeys(store.patient_id(m) for m in args.patient)) if args.patient else None
        if args.json:  # from the stored assessment summaries (tohtrack.summary), each patient's JSON as printed
            from . import cohort

            encoded = cohort.flags_json(store, as_of, ids, settings)
        else:
            patients = store.patients(ids) if ids is not None else store.patients(include_archived=False)
            # One patient at a time: only the text of each is kept, never the whole cohort's records.
            for patient in patients:
                assessment = course.assess(patient, as_of, settings)
                lines.append((assessment.mrn, format_assessment(assessment)))
    if args.json:
        write_json_lines(course.document_json([], as_of, settings), "patients", encoded=encoded)
    else:
        print(f"Course assessment as of {as_of.isoformat()}\n")
        print("\n".join(text for _, text in sorted(lines)) if lines else "no patients")
    return EXIT_OK


def write_json_lines(document: dict, list_key: str, out=None, encoded: list[str] | None = None) -> None:
    """Print a JSON document with one line per item of its big list: readable, and fast for 100 000 patients.

    `encoded`: the items already encoded (as JSONEncoder(ensure_ascii=False) does), instead of the document's.
    """
    out = out or sys.stdout
    dump = json.JSONEncoder(ensure_ascii=False).encode
    head = ",\n".join(f"  {dump(k)}: {dump(v)}" for k, v in document.items() if k != list_key)
    items = encoded if encoded is not None else [dump(item) for item in document[list_key]]
    out.write("{\n" + head + f",\n  {dump(list_key)}: [")
    out.write(",".join(f"\n    {item}" for item in items))
    out.write("\n  ]\n}\n" if items else "]\n}\n")


def format_assessment(a) -> str:
    """One patient's assessment as readable lines."""
    review = a.next_review.isoformat() if a.next_review else "—"
    status = "overdue" if a.overdue else ("due" if a.due else "")
    lines = [f"{a.mrn:<14} {a.pattern.replace('_', ' '):<34} next review {review} {status}".rstrip()]
    lines += [f"    {f.severity:<8} {f.code:<22} {f.message}" for f in a.flags]
    return "\n".join(lines)


def cmd_worklist(args) -> int:
    from . import cohort

    as_of = args.as_of or dt.date.today()
    with _open(args, readonly=True) as store:
        entries = cohort.worklist(store, as_of, due_only=not args.all)
    print(f"Review worklist as of {as_of.isoformat()}: {len(entries)} patient(s)")
    for e in entries:
        review = e.next_review.isoformat() if e.next_review else "—"
        urgent = f"{e.most_urgent.code}: {e.most_urgent.message}" if e.most_urgent else ""
        print(f"{e.state or '-':<8} {review:<10}  {e.mrn:<14} {e.name[:30]:<30}  {urgent}".rstrip())
    return EXIT_OK


def cmd_report(args) -> int:
    # A report never needs a screen: the offscreen platform works on a server too, and its 96 DPI makes the
    # PDF the same whichever workstation writes it.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from .gui.pdf import write_report  # which refuses a folder, a device or a missing folder as output (exit 2)

    with _open(args, readonly=True) as store:
        report, pages = write_report(store, args.mrn, args.output, args.as_of, deidentify=args.deidentify)
    what = f"de-identified report {report.report_id}" if report.deidentified else f"report of {args.mrn}"
    print(f"{what} written to {args.output} ({pages} page{'s' if pages != 1 else ''})")
    return EXIT_OK


def cmd_backup(args) -> int:
    _output_file(args.output)
    with _open(args, readonly=True) as store:
        target = store.backup(args.output)
    print(f"backup written to {target}")
    return EXIT_OK


def cmd_restore(args) -> int:
    from .db import check_backup
    from .model import Problem, ValidationError

    try:  # before the database is opened: a backup that cannot be used changes nothing, not even a new file
        problems = check_backup(Path(args.backup))
    except OSError as exc:  # a name too long, a folder that may not be read
        problems = [f"cannot read it ({exc.strerror or exc})"]
    if problems:
        raise ValidationError([Problem(args.backup, p) for p in problems])
    with _open(args) as store:
        kept = store.restore(args.backup)
    print(f"restored {args.backup}; the replaced database was kept as {kept}")
    return EXIT_OK


def cmd_check(args) -> int:
    with _open(args, readonly=True) as store:
        problems = store.check()
        count = store.count_patients()
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        print(f"check failed: {len(problems)} problem(s) in {store.path}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"ok: {store.path} ({count} patients): integrity, foreign keys and audit trail verified")
    return EXIT_OK


def _show(value) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def cmd_audit(args) -> int:
    with _open(args, readonly=True) as store:
        patient_id = store.patient_id(args.patient) if args.patient is not None else None  # "" is no MRN
        out = sys.stdout
        for e in store.audit_entries(patient_id):
            who = e.os_user + (f" ({e.clinician})" if e.clinician else "")
            subject = f"{e.table_name} #{e.row_id}" + (f" of {e.mrn}" if e.mrn else "")
            out.write(f"{e.at}  {who}  {e.action} {subject}\n")
            fields = sorted(set(e.old or {}) | set(e.new or {}))
            for field in fields:
                old = (e.old or {}).get(field) if e.old is not None else None
                new = (e.new or {}).get(field) if e.new is not None else None
                if e.action == "create":
                    out.write(f"    {field}: {_show(new)}\n")
                elif e.action == "delete":
                    out.write(f"    {field}: {_show(old)} (removed)\n")
                else:
                    out.write(f"    {field}: {_show(old)} → {_show(new)}\n")
    return EXIT_OK


def cmd_settings(args) -> int:
    from . import settings as settings_mod

    with _open(args, readonly=args.value is None) as store:
        if args.value is not None:
            value = store.set_setting(args.key, args.value)
            print(f"{args.key} = {value}")
            return EXIT_OK
        texts = store.setting_texts()
    if args.key is not None:
        if args.key not in texts:
            settings_mod.parse(args.key, "")  # raises the unknown-key message
        print(texts[args.key])
    else:
        for key, value in texts.items():
            print(f"{key} = {value}")
    return EXIT_OK


def run_gui(args) -> int:
    """The desktop app, or with --screenshot its picture."""
    from .db import default_path

    path = Path(args.db) if getattr(args, "db", None) else default_path()
    if args.screenshot:
        from .gui.app import screenshot

        screenshot(path, Path(args.screenshot), args.screenshot_patient, args.screenshot_as_of)
        print(f"screenshot written to {args.screenshot}")
        return EXIT_OK
    if args.screenshot_patient or args.screenshot_as_of:
        raise UsageError("--patient and --as-of without a subcommand go with --screenshot")
    from .gui.app import run

    return run(path, getattr(args, "clinician", "") or "")


COMMANDS = {
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "dicom": cmd_dicom,
    "import-dicom": cmd_import_dicom,
    "flags": cmd_flags,
    "worklist": cmd_worklist,
    "report": cmd_report,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "check": cmd_check,
    "audit": cmd_audit,
    "settings": cmd_settings,
}


def _report_problems(problems, context: str) -> None:
    print(f"tohtrack: {context}: {len(problems)} problem(s); nothing was written", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    if (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") == "utf8":
        # A file name with bytes that are not UTF-8 is printed as those bytes (as in Python's UTF-8 mode).
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdout.reconfigure(errors="surrogateescape")
    parser = build_parser()
    args = parser.parse_args(argv)
    from .db import StoreError
    from .model import ValidationError

    context = getattr(args, "file", None) or args.command or "tohtrack"
    try:
        if args.command is None:
            return run_gui(args)
        if args.screenshot or args.screenshot_patient or args.screenshot_as_of:
            raise UsageError(f"--screenshot, and --patient or --as-of before a command, go without a command; "
                             f"give them after '{args.command}'")
        return COMMANDS[args.command](args)
    except ValidationError as exc:
        _report_problems(exc.problems, context)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"tohtrack: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except StoreError as exc:
        print(f"tohtrack: {exc}", file=sys.stderr)
        return exc.exit_code
    except sqlite3.DatabaseError as exc:  # e.g. a damaged page met while reading: say which file, and what
        from .db import _write_error, default_path

        path = Path(args.db) if getattr(args, "db", None) else default_path()
        print(f"tohtrack: {_write_error(path, exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except UnicodeEncodeError:  # an MRN, a name or a value from bytes that are not UTF-8: it cannot be stored
        print(f"tohtrack: {context}: a value on the command line is not valid text (bytes that are not UTF-8); "
              "nothing was written", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("tohtrack: interrupted; the last action was not written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tohtrack: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # the promise: no traceback, ever
        print(f"tohtrack: unexpected error ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
