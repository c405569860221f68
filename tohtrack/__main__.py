"""The tohtrack command line (the README's "The command line"). Imports Qt only for the desktop app."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
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
    common.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS,
                        help="the database: a SQLite file, or a clinic server's postgresql://USER@HOST/DB URL "
                             "(password from ~/.pgpass, $PGPASSWORD or a service file; default: $TOHTRACK_DB, "
                             "else tohtrack.sqlite3 in the user data folder)")
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
    p.add_argument("file", metavar="FILE", help="the file to import ('-' for standard input, tohtrack/1 only)")

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
    p.add_argument("--json", action="store_true", help="print JSON (docs/course-rules.md)")

    p = sub.add_parser("worklist", parents=[common], help="patients with active episodes, due or overdue first")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="as of this date (default today)")
    p.add_argument("--all", action="store_true", help="every patient with an active episode, not only those due")

    p = sub.add_parser("report", parents=[common], help="write a patient's timeline report as PDF")
    p.add_argument("mrn", metavar="MRN", help="the patient")
    p.add_argument("-o", "--output", required=True, metavar="OUT.pdf", help="the PDF file to write ('-' for stdout)")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the record as it stood on this date (default today)")
    p.add_argument("--deidentify", action="store_true",
                   help="leave out name, MRN, birth date, accession numbers and free text; age in 5-year bands, "
                        "dates as months since the first onset, a random report id")

    p = sub.add_parser("stats", parents=[common], help="cohort statistics: time to resolution, second episodes")
    _stats_arguments(p)

    p = sub.add_parser("backup", parents=[common], help="an online, consistent copy of the database")
    p.add_argument("-o", "--output", required=True, metavar="FILE")

    p = sub.add_parser("restore", parents=[common], help="put a checked backup in place of the database")
    p.add_argument("backup", metavar="BACKUP")

    p = sub.add_parser("check", parents=[common], help="verify integrity and the audit trail")
    p.add_argument("--seal", metavar="SEAL",
                   help="also verify that the audit trail still has this seal, as printed on a report "
                        "(entries·hash, e.g. 1234·9f3a7c21d0e4)")
    p.add_argument("--accept", action="store_true",
                   help="accept this database as it is where this workstation remembers another state of it "
                        "(a copy put in place by hand); says what is accepted, and is audited")

    p = sub.add_parser("audit", parents=[common], help="print the audit trail")
    p.add_argument("--patient", metavar="MRN", help="only this patient's records")

    p = sub.add_parser("settings", parents=[common], help="print or change the clinic settings")
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")

    p = sub.add_parser("admin", parents=[common],
                       help="clinic server (PostgreSQL, --db postgresql://OWNER@HOST/DB): set up the database and logins")
    admin = p.add_subparsers(dest="admin_command", metavar="ACTION", parser_class=_Parser, required=True)
    admin.add_parser("init", parents=[common], help="create or upgrade the schema and the tohtrack_clinician group role")
    a = admin.add_parser("add-user", parents=[common], help="create a clinician login (asks for its password)")
    a.add_argument("login", metavar="LOGIN")
    a.add_argument("--name", default="", metavar="NAME", help='the name the audit trail shows, e.g. "Dr A. Rossi"')
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    admin.add_parser("users", parents=[common], help="list the clinician logins")

    p = sub.add_parser("copy", parents=[common],
                       help="copy the whole database (records, audit trail, settings) into an empty one")
    p.add_argument("dest", metavar="DEST", help="a new SQLite file, or an empty clinic server database (postgresql://…)")
    return parser


def _open(args, readonly: bool = False):
    """The database of --db, else the default one (created on first use).

    Commands that only read open it read-only: they never create a file at a mistyped --db, nor upgrade it.
    """
    from .db import Store, default_path
    from .store import is_server_url, open_store

    explicit = getattr(args, "db", None) or os.environ.get("TOHTRACK_DB")
    if is_server_url(explicit):  # a database server's URL, never a file name
        store = open_store(explicit, clinician=getattr(args, "clinician", "") or "", readonly=readonly)
        if not readonly:
            store.on_wait = lambda message: print(f"tohtrack: {message}", file=sys.stderr, flush=True)
        return store
    explicit = getattr(args, "db", None)
    path = Path(explicit) if explicit else default_path()
    if readonly and (explicit or path.exists()):
        return Store(path, readonly=True)
    from .safety import network_share_warning

    warning = network_share_warning(path)
    if warning:
        print(f"tohtrack: warning: {warning}", file=sys.stderr)
    store = Store(path, clinician=getattr(args, "clinician", "") or "")
    store.on_wait = lambda message: print(f"tohtrack: {message}", file=sys.stderr, flush=True)
    for line in store.migration_warnings:
        print(f"tohtrack: warning: {line}", file=sys.stderr)
    return store


def _database_path(args) -> Path:
    from .db import default_path

    explicit = getattr(args, "db", None)
    return Path(explicit) if explicit else default_path()


@contextlib.contextmanager
def _no_trace_if_failed(path: Path):
    """A command that may create the database: if it fails, the database it created (an empty one, with its
    side files) and the folders made for it are removed again, so a mistyped --db leaves nothing behind."""
    missing = [folder for folder in (path, *path.parents) if not os.path.lexists(folder)]
    try:
        yield
    except BaseException:
        if missing and missing[0] == path:
            from .db import Store
            from .safety import database_files

            try:
                with Store(path, readonly=True) as store:
                    empty = store.count_patients() == 0
            except Exception:  # noqa: BLE001 - no schema yet, or not readable: nothing of the user's in it
                empty = True
            if empty:
                for file in database_files(path):
                    with contextlib.suppress(OSError):
                        file.unlink()
                for folder in missing[1:]:
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only if empty: never a folder something else was put in meanwhile
        raise


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
    from . import fhir, interchange, safety

    # The file first: one that cannot be read (or a FIFO, a device) is refused before a database is created.
    source = sys.stdin.buffer if args.file == "-" else safety.open_input(args.file)
    if args.file == "-":
        is_fhir, source = fhir.sniff_stream(source)  # told by content, as a file is
        if is_fhir:
            return _import_fhir(args, source)
    elif fhir.is_bundle(args.file):
        source.close()
        return _import_fhir(args)
    with source, _open(args) as store:  # main() removes a database this command created, should it fail
        counts = interchange.import_stream(store, source)
    shown = "standard input" if args.file == "-" else args.file
    print(f"imported {counts.patients} patients, {counts.episodes} episodes, {counts.findings} findings from {shown}")
    return EXIT_OK


def _import_fhir(args, stream=None) -> int:
    from . import fhir

    with _open(args) as store:
        patients, skipped = fhir.import_stream(store, stream) if stream is not None else fhir.import_file(store, args.file)
    shown = "standard input" if stream is not None else args.file
    for line in fhir.skipped_summary(skipped):
        print(f"tohtrack: {shown}: {line}", file=sys.stderr)
    episodes = sum(len(p.episodes) for p in patients)
    findings = sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for p in patients for e in p.episodes)
    print(f"imported {len(patients)} patients, {episodes} episodes, {findings} findings from the FHIR bundle "
          f"{shown}" + (f" ({len(skipped)} entries skipped)" if skipped else ""))
    return EXIT_OK


def _export_fhir(args) -> int:
    from . import fhir, interchange

    options = fhir.ExportOptions(transaction=args.fhir_transaction, deidentify=args.deidentify)
    with _open(args, readonly=True) as store:
        # Streamed patient by patient (the whole bundle in memory took 3 GB for 10 000 patients).
        chunks = fhir.export_chunks(store, args.patient, options)
        first = next(chunks)  # an unknown --patient is refused here, before a file is started
        interchange.write_chunks(args.output, itertools.chain([first], chunks), store.path)
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


def _output_file(name: str, args=None, backup: bool = False) -> str:
    """An output path that may be written (safety.check_output, exit 2 with one wording for every command): a
    file or nothing yet, in a folder that exists, and never the database, its side files or its backups."""
    from .safety import check_output

    check_output(name, _database_path(args) if args is not None else None, backup=backup)
    return name


def cmd_export(args) -> int:
    from . import interchange

    if args.format == "csv":
        return _export_csv(args)
    if args.as_of is not None:
        raise UsageError("--as-of goes with --format csv")
    if args.output != "-":
        _output_file(args.output, args)
    if args.format != "fhir" and (args.deidentify or args.fhir_transaction):
        raise UsageError("--deidentify and --fhir-transaction go with --format fhir or csv")
    if args.format == "fhir":
        return _export_fhir(args)
    with _open(args, readonly=True) as store:
        interchange.write_export(store, args.output, args.patient)
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
    when = f"next review {review} {status}"
    if a.missed_review is not None:  # the review that was missed, not a later one
        when = f"overdue: review of {a.missed_review.isoformat()} missed, {(a.as_of - a.missed_review).days} days"
    lines = [f"{printable(a.mrn):<14} {a.pattern.replace('_', ' '):<34} {when}".rstrip()]
    lines += [f"    {f.severity:<8} {f.code:<22} {f.message}" for f in a.flags_by_urgency]  # most urgent first
    return "\n".join(lines)


def cmd_worklist(args) -> int:
    from . import cohort

    as_of = args.as_of or dt.date.today()
    with _open(args, readonly=True) as store:
        entries = cohort.worklist(store, as_of, due_only=not args.all)
    print(f"Review worklist as of {as_of.isoformat()}: {len(entries)} patient(s)")
    for e in entries:
        # Overdue: the missed review and how long ago, never a later date; the most urgent flag in words.
        urgent = f"{e.most_urgent.code}: {e.most_urgent.message}" if e.most_urgent else ""
        print(f"{e.state or '-':<8} {e.review_text:<38}  {printable(e.mrn):<14} {printable(e.name[:30]):<30}  {urgent}".rstrip())
    return EXIT_OK


def cmd_report(args) -> int:
    # A report never needs a screen: the offscreen platform works on a server too, and its 96 DPI makes the
    # PDF the same whichever workstation writes it.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    to_stdout = args.output == "-"
    if not to_stdout:
        _output_file(args.output, args)  # before the report is laid out: a refused output costs nothing
    from .gui.pdf import write_report  # which checks the output again, as every output is (exit 2)

    with _open(args, readonly=True) as store:
        report, pages = write_report(store, args.mrn, args.output, args.as_of, deidentify=args.deidentify)
    what = f"de-identified report {report.report_id}" if report.deidentified else f"report of {args.mrn}"
    where = "standard output" if to_stdout else args.output
    print(f"{what} written to {where} ({pages} page{'s' if pages != 1 else ''})",
          file=sys.stderr if to_stdout else sys.stdout)
    return EXIT_OK


def _stats_arguments(p) -> None:
    from .model import JOINTS, SEXES
    from .stats import parse_age_band

    def age_band(text: str) -> str:
        try:
            return parse_age_band(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    p.add_argument("--as-of", type=_date, metavar="DATE", help="as the records stood on this date (default today)")
    p.add_argument("--joint", choices=JOINTS + ("all",), metavar="J",
                   help=f"only this joint ({', '.join(JOINTS)} or all; default all)")
    p.add_argument("--sex", choices=SEXES, metavar="S", help=f"only patients of this sex ({', '.join(SEXES)})")
    p.add_argument("--age-band", type=age_band, metavar="40-49", help="only patients of this 10-year age band at "
                                                                      "their first onset")
    p.add_argument("--onset-from", type=_date, metavar="D", help="only onsets on or after this date")
    p.add_argument("--onset-to", type=_date, metavar="D", help="only onsets on or before this date")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--pdf", metavar="OUT.pdf", help="write the cohort report as PDF (no names or MRNs)")


def cmd_stats(args) -> int:
    from . import stats

    filters = stats.Filters(joint=None if args.joint in (None, "all") else args.joint, sex=args.sex,
                            age_band=args.age_band, onset_from=args.onset_from, onset_to=args.onset_to)
    for option, message in filters.problems():
        raise UsageError(f"--{option}: {message}")
    if args.pdf is not None:
        _output_file(args.pdf, args)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # as for `report`: no screen needed, the same PDF everywhere
    as_of = args.as_of or dt.date.today()
    with _open(args, readonly=True) as store:
        settings = store.settings()
        figures = stats.compute(store, as_of, filters, settings)
        clinic, paper, database, seal = settings.clinic_name, settings.paper_size, store.path, store.audit_seal()
    if args.pdf is not None:
        from .gui.cohort_report import write_cohort_pdf

        pages = write_cohort_pdf(figures, args.pdf, clinic_name=clinic, paper_size=paper, database=database,
                                 seal=seal)
        # With --json, standard output stays one JSON object: the note goes to standard error.
        print(f"cohort report written to {args.pdf} ({pages} page{'s' if pages != 1 else ''})",
              file=sys.stderr if args.json else sys.stdout)
        if not args.json:
            return EXIT_OK
    if args.json:
        json.dump(figures.as_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(stats.format_text(figures))
    return EXIT_OK


def cmd_backup(args) -> int:
    _output_file(args.output, args, backup=True)
    with _open(args, readonly=True) as store:
        target = store.backup(args.output)
        seal = store.audit_seal()
    print(f"backup written to {target} (audit seal {seal})")
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
    from . import witness

    if args.seal is not None and args.accept:
        raise UsageError("check: --seal and --accept go separately")
    if args.seal is not None:
        from .db import parse_seal

        try:
            parse_seal(args.seal)
        except ValueError as exc:
            raise UsageError(f"check --seal: {exc}") from None
    if args.accept:
        return _check_accept(args)
    with _open(args, readonly=True) as store:
        problems = store.check()
        count = store.count_patients()
        anchor_problems, notes = witness.verify(store)
        problems += anchor_problems
        if args.seal is not None:
            sealed = store.verify_seal(args.seal)
            problems += sealed
            if not sealed:
                notes.append(f"seal {args.seal.strip()}: matches this database's audit trail")
    if problems:
        for line in notes:
            print(line)
        for line in problems:
            print(line, file=sys.stderr)
        if anchor_problems:
            print("If this file was put in place on purpose (a copy brought by hand), accept it with "
                  "'tohtrack check --accept'; otherwise restore a backup.", file=sys.stderr)
        print(f"check failed: {len(problems)} problem(s) in {store.path}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"ok: {store.path} ({count} patients): integrity, foreign keys and audit trail verified")
    for line in notes:
        print(line)
    return EXIT_OK


def _check_accept(args) -> int:
    """check --accept: the file's own checks must pass; then say what is accepted, audit it, move the witness."""
    from . import witness
    from .db import Store

    from .store import is_server_url

    # Read-only first: a mistyped --db (or no default database yet) is "no database there", never a new empty
    # database accepted as it is (a server's URL: opened read-only, so an empty database is not initialised).
    if is_server_url(getattr(args, "db", None) or os.environ.get("TOHTRACK_DB")):
        _open(args, readonly=True).close()
    else:
        Store(_database_path(args), readonly=True).close()
    with _open(args) as store:
        problems = store.check()
        if problems:
            for line in problems:
                print(line, file=sys.stderr)
            print(f"not accepted: {len(problems)} problem(s) in {store.path} beyond what this workstation "
                  "remembers; restore a backup instead", file=sys.stderr)
            return EXIT_FAILURE
        identity = store.identity()
        held, at_path, count, head = store.accept_as_seen()
        lines = [f"accepted: {store.path} as it is, with {count} audit entries (head {head[:12]}…)"]
        if at_path is not None and at_path.identity != identity:
            lines.append(f"  in place of another database this workstation first saw at this path on "
                         f"{witness.seen_words(at_path.seen)}")
        if held is None:
            lines.append("  this workstation had not seen this database before")
        else:
            at = store.hash_at(held.count)
            if count < held.count:
                change = f"{witness.entries(held.count - count)} behind"
            elif at != held.head:
                change = f"a different audit trail (entry {held.count} was {held.head[:12]}…, is {at[:12]}…)"
            else:
                change = f"{witness.entries(count - held.count)} ahead of" if count > held.count else "the same as"
            lines.append(f"  {change} what this workstation last saw on {held.when} ({held.count} entries, "
                         f"at {held.path})")
    print("\n".join(lines))
    print("the acceptance is recorded in the audit trail; this workstation holds the database to it from now on")
    return EXIT_OK


def printable(text: str | None) -> str:
    """Stored text as one line of output: every character the character rules refuse in a single-line text
    (line breaks, control and invisible formatting characters…) written as an escape (\\n, \\u202e), so that no
    stored value — even one written before those rules, or outside TOHtrack — can forge or reorder lines."""
    from .model import refused_character

    text = text or ""
    if refused_character(text) is None:
        return text
    out = []
    for char in text:
        if refused_character(char) is None:
            out.append(char)
        else:
            escaped = char.encode("unicode_escape", "backslashreplace").decode("ascii")
            out.append(escaped if escaped != char else f"\\u{ord(char):04x}")
    return "".join(out)


def cmd_audit(args) -> int:
    from .audit_words import ACTIONS, AuditReader

    raw = {words: code for code, words in ACTIONS.items()}
    with _open(args, readonly=True) as store:
        patient_id = store.patient_id(args.patient) if args.patient is not None else None  # "" is no MRN
        out = sys.stdout
        # In the form's language: "MRI of 20 Apr 2025, right hip (EX-01)", then "edema 55 % → 58 %"; stored text
        # printed as one line each (printable), so no stored value can forge a line.
        for line in AuditReader().lines(store.audit_entries(patient_id)):
            of = f" ({printable(line.mrn)})" if line.mrn else ""
            out.write(f"{printable(line.at)}  {printable(line.who)}  {printable(line.action)}  "
                      f"{printable(line.subject)}{of}\n")
            for change in line.changes:
                out.write(f"    {printable(change.text(raw.get(line.action, line.action)))}\n")
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

    from .store import is_server_url

    named = getattr(args, "db", None) or os.environ.get("TOHTRACK_DB")
    path = named.strip() if is_server_url(named) else Path(args.db) if getattr(args, "db", None) else default_path()
    if args.screenshot:
        _output_file(args.screenshot, args)  # before the window is built; written 0600, all or nothing
        from .gui.app import screenshot

        # a mistyped --db (or an unknown --patient) leaves no database behind (a server's URL: none is made)
        with contextlib.nullcontext() if isinstance(path, str) else _no_trace_if_failed(path):
            screenshot(path, Path(args.screenshot), args.screenshot_patient, args.screenshot_as_of)
        print(f"screenshot written to {args.screenshot}")
        return EXIT_OK
    if args.screenshot_patient or args.screenshot_as_of:
        raise UsageError("--patient and --as-of without a subcommand go with --screenshot")
    from .gui.app import run

    return run(path, getattr(args, "clinician", "") or "")


def cmd_admin(args) -> int:
    """The clinic server's set-up, run by the database's owner: init, add-user LOGIN, users."""
    target = getattr(args, "db", None) or os.environ.get("TOHTRACK_DB", "")
    if not target.startswith(("postgresql://", "postgres://")):
        raise UsageError("admin: works on a clinic server's database: give --db postgresql://OWNER@HOST/DATABASE "
                         "(the owner's login; the password from a prompt, ~/.pgpass or PGPASSWORD); nothing was written")
    from .store import postgres

    if args.admin_command == "init":
        for line in postgres.admin_init(target):
            print(f"{postgres.describe(target)}: {line}")
        return EXIT_OK
    if args.admin_command == "users":
        for login, name, can_login in postgres.list_users(target):
            print("\t".join([login, name, "" if can_login else "(cannot log in)"]).rstrip("\t"))
        return EXIT_OK
    problem = postgres.check_login(args.login)
    if problem:
        raise UsageError(f"add-user: LOGIN: {problem}; nothing was written")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password for {args.login}: ")
        if getpass.getpass("The same password again: ") != password:
            raise UsageError("add-user: the two passwords differ; nothing was written")
    if not password:
        raise UsageError("add-user: the password is empty; nothing was written")
    postgres.add_user(target, args.login, args.name, password)
    print(f"{postgres.describe(target)}: created the login {args.login}"
          + (f" ({args.name.strip()})" if args.name.strip() else "") + " in tohtrack_clinician")
    return EXIT_OK


def cmd_copy(args) -> int:
    """The whole database --db (or the default one) into DEST, an empty one: SQLite and PostgreSQL either way."""
    from .db import default_path
    from .store import pg_copy, postgres

    source = getattr(args, "db", None) or os.environ.get("TOHTRACK_DB") or str(default_path())
    if not postgres.is_postgres_url(source) and not Path(source).is_file():
        raise UsageError(f"--db: {source}: no database there; nothing was written")
    if not args.dest.strip():
        raise UsageError("copy: DEST names no database; nothing was written")
    began = time.monotonic()
    done = pg_copy.copy_database(source, args.dest)
    where = postgres.describe(args.dest) if postgres.is_postgres_url(args.dest) else args.dest
    print(f"copied {done['patients']} patients and {done['audit_entries']} audit entries into {where} "
          f"in {time.monotonic() - began:.1f} s; audit seal {done['audit_entries']}·{done['head'][:12]}; "
          "the copy passes its check")
    return EXIT_OK


COMMANDS = {
    "admin": cmd_admin,
    "copy": cmd_copy,
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "dicom": cmd_dicom,
    "import-dicom": cmd_import_dicom,
    "flags": cmd_flags,
    "worklist": cmd_worklist,
    "report": cmd_report,
    "stats": cmd_stats,
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
    from .model import check_clinician

    clinician_problem = check_clinician(getattr(args, "clinician", ""))
    if clinician_problem:  # before anything is opened or written: it would be stored with every audit entry
        print(f"tohtrack: --clinician: {clinician_problem}; nothing was written", file=sys.stderr)
        return EXIT_INVALID
    try:
        # A command that may create the database: if it fails, it leaves no new database or folder behind.
        creates = args.command in ("demo", "import", "restore") or (args.command == "settings" and args.value)
        explicit = getattr(args, "db", None)
        if explicit is not None and not explicit.strip():
            # An empty --db (an unset "$DB" in a script) would silently mean the default database.
            raise UsageError(f"--db: {explicit!r} names no file; give the database file; nothing was written")
        if creates and explicit and explicit.endswith(("/", os.sep, os.altsep or "/")) and not os.path.isdir(explicit):
            # A trailing slash names a folder: Path() would drop it and a database file be made by that name.
            raise UsageError(f"--db: {explicit!r} names a folder; give the database file; nothing was written")
        if args.command is None:
            return run_gui(args)
        if args.screenshot or args.screenshot_patient or args.screenshot_as_of:
            raise UsageError(f"--screenshot, and --patient or --as-of before a command, go without a command; "
                             f"give them after '{args.command}'")
        from .store import is_server_url

        on_server = is_server_url(getattr(args, "db", None) or os.environ.get("TOHTRACK_DB"))
        with _no_trace_if_failed(_database_path(args)) if creates and not on_server else contextlib.nullcontext():
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
    except UnicodeEncodeError:  # an MRN, a name or a value from bytes that are not UTF-8: it cannot be stored
        source = getattr(args, "file", None)
        where = ("standard input holds text that is" if source == "-" else
                 f"the file {source} holds text that is" if source else "a value on the command line is")
        print(f"tohtrack: {context}: {where} not valid text (bytes that are not UTF-8, or a lone surrogate); "
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
        if os.environ.get("TOHTRACK_DEBUG"):
            raise
        print(f"tohtrack: unexpected error ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
