"""Schema migrations of the TOHtrack database, applied in order by the storage gateway (listed in schema.py)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from tohtrack.store.schema import APPLICATION_ID, MIGRATION_SET

migrations = Migrations(MIGRATION_SET)


def _run(db: Database, script: str) -> None:
    """Run ';'-separated statements one by one (executescript would commit the open transaction)."""
    for statement in _statements(script):
        db.execute(statement)


def _statements(script: str) -> list[str]:
    out, current = [], []
    for line in script.splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        # Trigger bodies contain ';' themselves: a statement ends at ';' outside BEGIN ... END.
        if text.endswith(";") and (" BEGIN" not in text.upper() or text.upper().endswith("END;")):
            out.append(text)
            current = []
    rest = "\n".join(current).strip()
    if rest:
        out.append(rest)
    return out


@migrations()
def m001_initial(db: Database) -> None:
    """Patients, episodes, findings, settings and the hash-chained, append-only audit trail."""
    _run(db, f"""
        PRAGMA application_id = {APPLICATION_ID};

        CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            mrn TEXT NOT NULL UNIQUE,
            family_name TEXT NOT NULL,
            given_name TEXT NOT NULL,
            birth_date TEXT NOT NULL,
            sex TEXT NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0,
            notes TEXT NOT NULL DEFAULT '',
            family_key TEXT NOT NULL,
            given_key TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX patients_family_key ON patients (family_key);
        CREATE INDEX patients_given_key ON patients (given_key);

        CREATE TABLE episodes (
            id INTEGER PRIMARY KEY,
            patient_id INTEGER NOT NULL REFERENCES patients (id),
            site TEXT NOT NULL,
            symptom_onset TEXT NOT NULL,
            resolved_on TEXT,
            diagnosis TEXT NOT NULL,
            pregnancy TEXT,
            avn_risk_factors TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX episodes_patient ON episodes (patient_id, symptom_onset);
        CREATE INDEX episodes_open ON episodes (resolved_on, symptom_onset);

        CREATE TABLE imaging (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes (id),
            date TEXT NOT NULL,
            time TEXT,
            modality TEXT NOT NULL,
            edema_extent_pct NUMERIC,
            edema_volume_ml NUMERIC,
            edema_regions TEXT NOT NULL DEFAULT '[]',
            t1_low_signal INTEGER,
            t2_high_signal INTEGER,
            subchondral_fracture_line INTEGER,
            subchondral_t2_low_band INTEGER,
            collapse INTEGER,
            medial_head_sparing INTEGER,
            osteopenia INTEGER,
            subchondral_cortical_loss INTEGER,
            joint_effusion INTEGER,
            joint_space_narrowed INTEGER,
            dce_enhancement TEXT,
            scintigraphy_uptake TEXT,
            accession TEXT NOT NULL DEFAULT '',
            report TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX imaging_episode ON imaging (episode_id, date);

        CREATE TABLE symptoms (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes (id),
            date TEXT NOT NULL,
            pain_nrs NUMERIC,
            function_score NUMERIC,
            function_instrument TEXT NOT NULL DEFAULT '',
            weight_bearing TEXT,
            note TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX symptoms_episode ON symptoms (episode_id, date);

        CREATE TABLE treatments (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes (id),
            start TEXT NOT NULL,
            "end" TEXT,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX treatments_episode ON treatments (episode_id, start);

        CREATE TABLE settings (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            os_user TEXT NOT NULL,
            clinician TEXT NOT NULL,
            table_name TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            patient_id INTEGER,
            action TEXT NOT NULL,
            old TEXT,
            new TEXT,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_patient ON audit (patient_id);
        CREATE INDEX audit_row ON audit (table_name, row_id);

        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be changed');
        END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be removed');
        END;
    """)


@migrations()
def m002_registry_indexes(db: Database) -> None:
    """Indexes for the patient registry: name order covering what search tests, given names, birth dates, onsets."""
    _run(db, """
        CREATE INDEX patients_name ON patients (family_key, given_key, id, mrn, archived, birth_date);
        CREATE INDEX patients_given_name ON patients (given_key, family_key, mrn, archived, birth_date);
        CREATE INDEX patients_birth_date ON patients (birth_date);
        CREATE INDEX episodes_onset ON episodes (symptom_onset, patient_id);
        DROP INDEX patients_family_key;
        DROP INDEX patients_given_key;
    """)


#: The triggers that keep tohtrack.summary's cache in step with the records (m003).
SUMMARY_TRIGGERS = (
    ["assessment_summary_patients_update"]
    + [f"assessment_summary_{table}_{event}" for table in ("episodes", "imaging", "symptoms", "treatments", "settings")
       for event in ("insert", "update", "delete")]
)
_SUMMARY_TRIGGERS = "\n".join(
    f"""
        CREATE TRIGGER assessment_summary_{table}_{event.lower()} AFTER {event} ON {table}
        BEGIN
            DELETE FROM assessment_summary WHERE patient_id IN ({patients});
        END;"""
    for table, event, patients in [
        ("patients", "UPDATE", "OLD.id, NEW.id"),
        ("episodes", "INSERT", "NEW.patient_id"),
        ("episodes", "UPDATE", "OLD.patient_id, NEW.patient_id"),
        ("episodes", "DELETE", "OLD.patient_id"),
        *((finding, event, ", ".join(f"(SELECT patient_id FROM episodes WHERE id = {row}.episode_id)"
                                      for row in rows))
          for finding in ("imaging", "symptoms", "treatments")
          for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))),
    ]
)


@migrations()
def m003_assessment_summary(db: Database) -> None:
    """A cache of each patient's course assessment (tohtrack.summary), emptied for a patient by triggers in the
    transaction of any write to the patient's records, and wholly when a setting the assessment uses changes.

    A new patient needs no trigger: it has no summary yet. The cache is never a source of truth.
    """
    _run(db, f"""
        CREATE TABLE assessment_summary (
            patient_id INTEGER PRIMARY KEY REFERENCES patients (id),
            rules TEXT NOT NULL,
            valid_from TEXT,
            valid_until TEXT,
            pattern TEXT NOT NULL,
            next_review TEXT,
            due INTEGER NOT NULL,
            overdue INTEGER NOT NULL,
            flag_count INTEGER NOT NULL,
            most_urgent TEXT,
            active_sites TEXT NOT NULL,  -- site codes, separated by spaces
            flags_json TEXT NOT NULL
        );
        {_SUMMARY_TRIGGERS}
        CREATE TRIGGER assessment_summary_settings_insert AFTER INSERT ON settings
        WHEN NEW.key IN ('resolution_window_months', 'review_schedule')
        BEGIN
            DELETE FROM assessment_summary;
        END;
        CREATE TRIGGER assessment_summary_settings_update AFTER UPDATE ON settings
        WHEN OLD.key IN ('resolution_window_months', 'review_schedule')
          OR NEW.key IN ('resolution_window_months', 'review_schedule')
        BEGIN
            DELETE FROM assessment_summary;
        END;
        CREATE TRIGGER assessment_summary_settings_delete AFTER DELETE ON settings
        WHEN OLD.key IN ('resolution_window_months', 'review_schedule')
        BEGIN
            DELETE FROM assessment_summary;
        END;
    """)


@migrations()
def m004_audit_identity(db: Database) -> None:
    """An identity for the database, by which the audit trail's witness outside the file (tohtrack.witness)
    knows it, kept through copies and backups and protected like the trail; and the table in which a backup
    carries the witness's view of the trail when it was made (empty in a database until a backup is restored).

    A new database gets a random one. One that already has a trail gets the start of its first entry's hash (as
    unique as the entry: when, who, what): every copy of an older file, upgraded on any day, is then the same
    database to the witness, and a backup from before this migration restored and upgraded again is not taken
    for another database.
    """
    _run(db, """
        CREATE TABLE audit_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            identity TEXT NOT NULL,
            created TEXT NOT NULL
        );
        INSERT INTO audit_identity (id, identity, created)
        VALUES (1, coalesce((SELECT substr(hash, 1, 32) FROM audit WHERE id = 1), lower(hex(randomblob(16)))),
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        CREATE TRIGGER audit_identity_no_update BEFORE UPDATE ON audit_identity
        BEGIN
            SELECT RAISE(ABORT, 'the database identity cannot be changed');
        END;
        CREATE TRIGGER audit_identity_no_delete BEFORE DELETE ON audit_identity
        BEGIN
            SELECT RAISE(ABORT, 'the database identity cannot be removed');
        END;

        CREATE TABLE audit_anchor (
            identity TEXT NOT NULL,
            count INTEGER NOT NULL,
            head TEXT NOT NULL,
            seen TEXT NOT NULL,
            backed_up TEXT NOT NULL
        );
    """)


@migrations()
def m005_mrn_key(db: Database) -> None:
    """MRNs unique as they compare (model.mrn_key: NFKC, case folded, trimmed, invisible characters left out):
    a key column beside each MRN with a unique index.

    MRNs stored before this rule that are the same under it (`H-1` and `h-1`) are not changed and do not stop the
    upgrade: the later patient is left without a key, found by its MRN as stored, and named by `check` (and on
    the upgrade) until one of them is given another MRN.
    """
    from tohtrack.model import mrn_key

    db.execute("ALTER TABLE patients ADD COLUMN mrn_key TEXT")
    seen: set[str] = set()
    keys = []
    for row_id, mrn in db.execute("SELECT id, mrn FROM patients ORDER BY id").fetchall():
        key = mrn_key(mrn)
        if key not in seen:
            seen.add(key)
            keys.append((key, row_id))
    db.conn.executemany("UPDATE patients SET mrn_key = ? WHERE id = ?", keys)
    db.execute("CREATE UNIQUE INDEX patients_mrn_key ON patients (mrn_key)")


@migrations()
def m006_imaging_dicom_study(db: Database) -> None:
    """The DICOM identity of an imaging study: its Study Instance UID and Study Description (both optional,
    NULL = not recorded), with an index to find a study already recorded by its UID."""
    _run(db, """
        ALTER TABLE imaging ADD COLUMN study_instance_uid TEXT;
        ALTER TABLE imaging ADD COLUMN study_description TEXT;
        CREATE INDEX imaging_study_instance_uid ON imaging (study_instance_uid) WHERE study_instance_uid IS NOT NULL;
    """)


# What m007 keeps per episode for the cohort statistics (tohtrack.stats, read by registry.stats_records): frozen
# with the migration (a change is a new migration). The month key of a record is stats.month_key: 2 × the whole
# calendar months from the onset's month to the record's, plus 1 when the record's day of the month is past the
# onset's. A value is written exactly: an integer as it is, a real with 17 significant digits (read back to the
# same float).
_FIGURES_KEY = """((CAST(substr(x.date, 1, 4) AS INTEGER) - CAST(substr(e.symptom_onset, 1, 4) AS INTEGER)) * 12
    + CAST(substr(x.date, 6, 2) AS INTEGER) - CAST(substr(e.symptom_onset, 6, 2) AS INTEGER)) * 2
    + (substr(x.date, 9, 2) > substr(e.symptom_onset, 9, 2))"""
#: The highest month key with a bit of its own in the key masks (2 × 12 months: stats' last month edge); a key
#: above it, or below 0, sets bit 25.
FIGURES_TOP_KEY = 24


def _figures_values(table: str, column: str) -> str:
    """The episode's values of one column as 'key:value' words, the set of their month keys as bits, and whether
    every value is a number (a value of another type makes the statistics work the episode out afresh)."""
    numbers = f"x.{column} IS NOT NULL AND typeof(x.{column}) IN ('integer', 'real')"
    return f"""(SELECT group_concat(({_FIGURES_KEY}) || ':' || CASE typeof(x.{column}) WHEN 'integer' THEN x.{column}
                ELSE printf('%!.17g', x.{column}) END, ' ')
              FROM {table} AS x WHERE x.episode_id = e.id AND {numbers}),
            (SELECT sum(DISTINCT 1 << CASE WHEN k BETWEEN 0 AND {FIGURES_TOP_KEY} THEN k ELSE {FIGURES_TOP_KEY + 1} END)
              FROM (SELECT {_FIGURES_KEY} AS k FROM {table} AS x WHERE x.episode_id = e.id AND {numbers})),
            NOT EXISTS (SELECT 1 FROM {table} AS x WHERE x.episode_id = e.id AND x.{column} IS NOT NULL
                        AND typeof(x.{column}) NOT IN ('integer', 'real'))"""


#: One episode's row of episode_figures, for `INSERT OR REPLACE INTO episode_figures SELECT … WHERE e.id = …`.
FIGURES_ROW = f"""SELECT e.id,
            (SELECT max(d) FROM (SELECT max(date) AS d FROM imaging WHERE episode_id = e.id
                                 UNION ALL SELECT max(date) FROM symptoms WHERE episode_id = e.id)),
            {_figures_values("imaging", "edema_extent_pct")},
            {_figures_values("symptoms", "pain_nrs")}
        FROM episodes AS e"""

#: The triggers that keep episode_figures in step with the records (m007).
FIGURES_TRIGGERS = [f"episode_figures_{table}_{event}" for table in ("episodes", "imaging", "symptoms")
                    for event in ("insert", "update", "delete")]


def _figures_refresh(episode: str) -> str:
    return f"INSERT OR REPLACE INTO episode_figures {FIGURES_ROW} WHERE e.id = {episode};"


def _figures_add(table: str, column: str, words: str, keys: str, plain: str) -> str:
    """A new study or symptom record added to its episode's row (the bulk of the writes: an import, the demo),
    without reading the episode's other records: the same row as _figures_refresh would write."""
    value = f"NEW.{column}"
    number = f"{value} IS NOT NULL AND typeof({value}) IN ('integer', 'real')"
    key = f"""(SELECT {_FIGURES_KEY} FROM (SELECT NEW.date AS date) AS x, episodes AS e WHERE e.id = NEW.episode_id)"""
    return f"""UPDATE episode_figures SET
                last_date = CASE WHEN last_date IS NULL OR NEW.date > last_date THEN NEW.date ELSE last_date END,
                {words} = CASE WHEN {number} THEN coalesce({words} || ' ', '') || {key} || ':'
                    || CASE typeof({value}) WHEN 'integer' THEN {value} ELSE printf('%!.17g', {value}) END
                    ELSE {words} END,
                {keys} = CASE WHEN {number} THEN coalesce({keys}, 0) | (1 << CASE WHEN {key} BETWEEN 0
                    AND {FIGURES_TOP_KEY} THEN {key} ELSE {FIGURES_TOP_KEY + 1} END) ELSE {keys} END,
                {plain} = {plain} AND ({value} IS NULL OR typeof({value}) IN ('integer', 'real'))
            WHERE episode_id = NEW.episode_id;"""


_FIGURES_COLUMNS = {"imaging": ("edema_extent_pct", "extents", "extent_keys", "extents_plain"),
                    "symptoms": ("pain_nrs", "pains", "pain_keys", "pains_plain")}
_FIGURES_TRIGGERS = "\n".join(
    f"""
        CREATE TRIGGER episode_figures_{table}_{event.split()[0].lower()} AFTER {event} ON {table}
        BEGIN
            {body}
        END;"""
    for table, event, body in [
        # A new episode has no records yet (they refer to it).
        ("episodes", "INSERT", "INSERT OR REPLACE INTO episode_figures (episode_id, extents_plain, pains_plain) "
                               "VALUES (NEW.id, 1, 1);"),
        ("episodes", "UPDATE OF id, symptom_onset", "DELETE FROM episode_figures WHERE episode_id = OLD.id;\n            "
                                                   + _figures_refresh("NEW.id")),
        ("episodes", "DELETE", "DELETE FROM episode_figures WHERE episode_id = OLD.id;"),
        *((finding, event, "\n            ".join(_figures_refresh(f"{row}.episode_id") for row in rows))
          for finding in ("imaging", "symptoms")
          for event, rows in (("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))),
        *((finding, "INSERT", _figures_add(finding, *_FIGURES_COLUMNS[finding])) for finding in ("imaging", "symptoms")),
    ]
)


@migrations()
def m007_episode_figures(db: Database) -> None:
    """What the cohort statistics need of each episode's records, kept beside the episode so that they need not
    read every study and symptom record (a hundred thousand patients have hundreds of thousands): the latest
    record's date, and the edema extents and pain scores as (month key, value) words with the set of their month
    keys. Triggers write an episode's row again in the transaction of any write to the episode or its studies and
    symptom records; the statistics use the rows only for an as-of date on or after the episode's latest record
    (otherwise they read the records), and `check` compares them with the records. Never a source of truth."""
    _run(db, f"""
        CREATE TABLE episode_figures (
            episode_id INTEGER PRIMARY KEY,
            last_date TEXT,  -- the latest date of the episode's studies and symptom records (NULL: none)
            extents TEXT,  -- 'key:value' of each study's edema extent (%), separated by spaces
            extent_keys INTEGER,  -- bit k: a key k among them (0 to 24; bit 25: any other)
            extents_plain INTEGER NOT NULL,  -- 0: a value that is not a number (not in the words)
            pains TEXT,  -- 'key:value' of each symptom record's pain NRS
            pain_keys INTEGER,
            pains_plain INTEGER NOT NULL
        );
        INSERT INTO episode_figures {FIGURES_ROW};
        {_FIGURES_TRIGGERS}
    """)

def known_names(migration_set: Migrations = migrations) -> list[str]:
    """Names of the migrations this version of TOHtrack knows, in order."""
    return [m.name for m in migration_set.pending(Database(memory=True, execute_plugins=False))]
