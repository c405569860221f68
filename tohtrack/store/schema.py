"""What identifies a TOHtrack database and its schema version, without sqlite-utils.

Opening a database only has to read which migrations were applied (plain SQL); tohtrack.migrations, which
imports sqlite-utils (~55 ms of start-up), is loaded only when the file needs upgrading. tests/test_db.py
checks that SCHEMA lists exactly the migrations tohtrack.migrations defines, in order.
"""

#: Written into the database header so that TOHtrack recognises its own files ('TOHT').
APPLICATION_ID = 0x544F4854

#: The sqlite-utils migration set the schema's migrations are recorded under (table _sqlite_migrations).
MIGRATION_SET = "tohtrack"

#: The migrations of this version, in the order they apply.
SCHEMA = ("m001_initial", "m002_registry_indexes", "m003_assessment_summary", "m004_audit_identity",
          "m005_mrn_key", "m006_imaging_dicom_study", "m007_episode_figures")
