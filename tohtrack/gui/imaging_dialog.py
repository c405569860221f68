"""The dialog that adds or edits an imaging study, showing the findings that fit its modality."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import os

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialogButtonBox, QFileDialog, QInputDialog,
                               QLabel, QMenu, QMessageBox, QProgressDialog, QWidget)

from ..model import (DCE_ENHANCEMENTS, FINDINGS, MODALITIES, MODALITY_LABELS, SCINTIGRAPHY_UPTAKES, ImagingStudy,
                     Problem, check_imaging, region_label, regions_of, site_joint, site_label)
from .forms.ui_imaging_dialog import Ui_ImagingDialog
from .record_dialog import (YES_NO, RecordDialog, capital, checked_codes, date_of, fill_combo, format_number,
                            long_text, parse_number, select_data, set_date, time_text, to_qtime)

MODALITY_ITEMS = {code: (label if label == code else f"{capital(label)} ({code})")
                  for code, label in MODALITY_LABELS.items()}
DCE_LABELS = {"early": "Early enhancement (hyperaemia)", "none": "No enhancement"}
SCINTIGRAPHY_LABELS = {
    "normal": "Normal",
    "increased_homogeneous": "Increased, homogeneous",
    "focal": "Focal",
    "photopenic": "Photopenic (cold) area",
}

EDEMA_FIELDS = ("edema_extent_pct", "edema_volume_ml", "edema_regions")
#: The fields each modality shows; a field holding a value shows whatever the modality.
MODALITY_FIELDS = {
    "MRI": {*EDEMA_FIELDS, "t1_low_signal", "t2_high_signal", "subchondral_fracture_line",
            "subchondral_t2_low_band", "collapse", "medial_head_sparing", "joint_effusion", "dce_enhancement"},
    "XR": {"osteopenia", "subchondral_cortical_loss", "joint_space_narrowed", "joint_effusion", "collapse",
           "subchondral_fracture_line"},
    "NM": {"scintigraphy_uptake"},
    "CT": {"osteopenia", "subchondral_cortical_loss", "subchondral_fracture_line", "collapse",
           "joint_space_narrowed"},
}
#: The modality-dependent fields in the order of the form: the MRI findings first, then radiograph and CT, then NM.
MODALITY_DEPENDENT = (*EDEMA_FIELDS, "t1_low_signal", "t2_high_signal", "subchondral_fracture_line",
                      "subchondral_t2_low_band", "collapse", "medial_head_sparing", "joint_effusion",
                      "dce_enhancement", "osteopenia", "subchondral_cortical_loss", "joint_space_narrowed",
                      "scintigraphy_uptake")
assert set(MODALITY_DEPENDENT) == {*EDEMA_FIELDS, *FINDINGS, "dce_enhancement", "scintigraphy_uptake"}


class ImagingDialog(RecordDialog):
    """New imaging study / Edit imaging study — MRI of date."""

    form_class = Ui_ImagingDialog
    record_class = ImagingStudy
    noun = "imaging study"
    fields = ("date", "time", "modality", "accession", *MODALITY_DEPENDENT, "report")

    def __init__(self, parent: QWidget | None = None, study: ImagingStudy | None = None, *, onset: dt.date,
                 today: dt.date | None = None, save: Callable[[ImagingStudy], ImagingStudy],
                 reload: Callable[[], ImagingStudy | None] | None = None, site: str | None = None,
                 mrn: str | None = None, recorded_uids: frozenset[str] = frozenset()):
        self.onset = onset
        #: The episode's site: the regions offered are those of its joint (any joint's when not known).
        self.site = site
        self.hidden: set[str] = set()
        self.mrn = mrn  # the patient's, to compare with a DICOM study's patient ID
        self.recorded_uids = recorded_uids  # studies the patient has already (From DICOM… warns)
        self.dicom_study = None  # the tohtrack.dicom.Study the dialog was prefilled from
        super().__init__(parent, study, today=today, save=save, reload=reload)

    def setup(self) -> None:
        ui = self.ui
        ui.date.setMaximumDate(QDate(self.today.year, self.today.month, self.today.day))
        fill_combo(ui.modality, [(MODALITY_ITEMS[code], code) for code in MODALITIES])
        for finding in FINDINGS:
            fill_combo(getattr(ui, finding), YES_NO)
        fill_combo(ui.dce_enhancement, [("not assessed", None)] + [(DCE_LABELS[c], c) for c in DCE_ENHANCEMENTS])
        fill_combo(ui.scintigraphy_uptake, [("not assessed", None)]
                   + [(SCINTIGRAPHY_LABELS[c], c) for c in SCINTIGRAPHY_UPTAKES])
        self.region_boxes = self._region_boxes()
        ui.time_check.toggled.connect(self._time_toggled)
        ui.modality.currentIndexChanged.connect(self._modality_changed)
        self._setup_dicom()

    # -- From DICOM… -----------------------------------------------------------------------

    def _setup_dicom(self) -> None:
        """The "From DICOM…" button (a new study only) and the line naming the DICOM study it came from."""
        self.dicom_label = QLabel(self)
        self.dicom_label.setObjectName("dicom_label")
        self.dicom_label.setTextFormat(Qt.TextFormat.PlainText)
        self.dicom_label.setWordWrap(True)
        self.dicom_label.setVisible(False)
        self.ui.main_layout.insertWidget(1, self.dicom_label)
        self.dicom_button = self.ui.button_box.addButton("From DICOM…", QDialogButtonBox.ButtonRole.ActionRole)
        self.dicom_button.setObjectName("dicom_button")
        self.dicom_button.setAutoDefault(False)
        self.dicom_button.setToolTip("Fill date, time, modality, accession number and the DICOM study's identity "
                                     "from a patient's CD, a folder, a DICOMDIR or a zip (headers only)")
        menu = QMenu(self.dicom_button)
        self.dicom_folder_action = menu.addAction("Folder or CD…", self.choose_dicom_folder)
        self.dicom_file_action = menu.addAction("File, DICOMDIR or zip…", self.choose_dicom_file)
        self.dicom_button.setMenu(menu)

    def _show_dicom_identity(self, study) -> None:
        shown = [f"From DICOM: {study.description}" if study.description else "From DICOM",
                 f"Study Instance UID {study.study_instance_uid}"]
        self.dicom_label.setText(" — ".join(shown))
        self.dicom_label.setVisible(True)

    def choose_dicom_folder(self) -> bool:
        path = QFileDialog.getExistingDirectory(self, "DICOM folder or CD", os.path.expanduser("~"))
        return self.load_dicom(path) if path else False

    def choose_dicom_file(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, "DICOM file, DICOMDIR or zip", os.path.expanduser("~"),
                                              "DICOM (DICOMDIR *.dcm *.zip);;All files (*)")
        return self.load_dicom(path) if path else False

    def load_dicom(self, path: str) -> bool:
        """Read the headers under `path` (with a progress dialog that can cancel), let the user pick a study,
        and fill the form from it. False when nothing was filled (cancelled, nothing found, refused)."""
        from .. import dicom

        total = dicom.count_files(path)
        progress = QProgressDialog("Reading DICOM headers…", "Cancel", 0, max(total, 0), self)
        progress.setWindowTitle("From DICOM")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(400)
        progress.setAutoClose(False)
        progress.setValue(0)

        def step(count: int, name: str) -> bool:
            if count % 8 == 0:
                progress.setValue(min(count, total) if total else 0)
                progress.setLabelText(f"Reading DICOM headers… {count} of {total or '?'} files")
                QApplication.processEvents()
            return not progress.wasCanceled()

        try:
            found = dicom.scan(path, progress=step)
        except dicom.ScanCancelled:
            return False
        except dicom.Unusable as exc:
            QMessageBox.warning(self, "From DICOM", f"{exc}")
            return False
        finally:
            progress.reset()
            progress.deleteLater()
        if not found.studies:
            unusable = len(found.not_dicom) + len(found.damaged) + len(found.skipped)
            QMessageBox.information(self, "From DICOM", f"No DICOM study found in {path} ({found.files} files"
                                    + (f", {unusable} not DICOM, damaged or skipped)." if unusable else ")."))
            return False
        study = found.studies[0]
        if len(found.studies) > 1:
            labels = [self._study_choice(s) for s in found.studies]
            label, ok = QInputDialog.getItem(self, "From DICOM", f"{len(labels)} studies found. Which one?",
                                             labels, 0, False)
            if not ok:
                return False
            study = found.studies[labels.index(label)]
        return self.prefill(study)

    @staticmethod
    def _study_choice(study) -> str:
        from ..dicom import clean

        date = study.study_date.isoformat() if study.study_date else "no date"
        text = f"{date}  {clean('/'.join(study.modalities)) or '?'}  {clean(study.description) or '(no description)'}"
        return f"{text}  — {len(study.series)} series, {study.images} images  [{study.study_instance_uid[-12:]}]"

    def prefill(self, study) -> bool:
        """Fill date, time, modality and accession, and keep the study's UID and description."""
        from ..dicom import _mrn_key, clean

        others = [p for p in study.patient_ids if self.mrn and _mrn_key(p) != _mrn_key(self.mrn)]
        if others:
            answer = QMessageBox.question(
                self, "From DICOM",
                f"The DICOM study belongs to patient ID {clean(', '.join(others))}, not to MRN {self.mrn}.\n\n"
                "Use it for this patient anyway?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if study.study_instance_uid in self.recorded_uids:
            answer = QMessageBox.question(self, "From DICOM",
                                          "This DICOM study is already recorded for the patient.\n\n"
                                          "Record it again?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        ui = self.ui
        if study.study_date is not None:
            ui.date.setDate(QDate(study.study_date.year, study.study_date.month, study.study_date.day))
        ui.time_check.setChecked(study.study_time is not None)
        if study.study_time is not None:
            ui.time.setTime(to_qtime(study.study_time))
        if study.modality is not None:
            select_data(ui.modality, study.modality)
        ui.accession.setText(study.accession)
        self.dicom_study = study
        self._show_dicom_identity(study)
        self._touched |= {"date", "time", "modality", "accession"}
        self.validate()
        return True

    def _region_boxes(self) -> dict[str, QCheckBox]:
        """One check box per edema region of the episode's joint, two to a row (three when there are many: every
        joint's, for a study whose episode is not known), in the code list's order, named
        `edema_regions_<code>` on the form; and one for each region of another joint that the study being edited
        names (recorded before regions were per joint), ticked, to untick."""
        ui = self.ui
        joint = site_joint(self.site or "")
        codes = list(regions_of(self.site))
        legacy = [code for code in (self.original.edema_regions if self.original else []) if code not in codes]
        boxes: dict[str, QCheckBox] = {}
        where = f"{site_label(self.site)} " if self.site else ""
        per_row = 2 if len(codes + legacy) <= 8 else 3  # the dialog stays within a 1280×800 screen
        for i, code in enumerate(codes + legacy):
            label = region_label(code)
            text = label[:1].upper() + label[1:]
            if code in legacy:
                text += f" (not a {joint} region)"
            box = QCheckBox(text, ui.edema_regions)
            box.setObjectName(f"edema_regions_{code}")
            box.setAccessibleName(f"Edema region of the {where}: {label}")
            ui.edema_regions_layout.addWidget(box, i // per_row, i % per_row)
            setattr(ui, f"edema_regions_{code}", box)
            boxes[code] = box
        ui.edema_regions_label.setBuddy(next(iter(boxes.values())))
        previous = ui.edema_volume_ml
        for box in boxes.values():
            QWidget.setTabOrder(previous, box)
            previous = box
        QWidget.setTabOrder(previous, ui.t1_low_signal)
        return boxes

    def _time_toggled(self, checked: bool) -> None:
        self.ui.time.setEnabled(checked)
        if checked and not self._filling:
            self.ui.time.setFocus()

    def _modality_changed(self) -> None:
        if not self._filling:
            self.update_visibility()

    def fill(self, study: ImagingStudy | None) -> None:
        ui = self.ui
        study = study or ImagingStudy(date=self.today, modality="MRI")
        set_date(ui.date, study.date, self.today)
        ui.time_check.setChecked(study.time is not None)
        ui.time.setEnabled(study.time is not None)
        ui.time.setTime(to_qtime(study.time))
        select_data(ui.modality, study.modality)
        ui.accession.setText(study.accession)
        ui.edema_extent_pct.setText(format_number(study.edema_extent_pct))
        ui.edema_volume_ml.setText(format_number(study.edema_volume_ml))
        for code, box in self.region_boxes.items():
            box.setChecked(code in study.edema_regions)
        for finding in FINDINGS:
            select_data(getattr(ui, finding), getattr(study, finding))
        select_data(ui.dce_enhancement, study.dce_enhancement)
        select_data(ui.scintigraphy_uptake, study.scintigraphy_uptake)
        ui.report.setPlainText(study.report)
        self.update_visibility()
        if self.original is not None:
            self.dicom_button.setVisible(False)  # an edit keeps the study it was made from
            if study.study_instance_uid:
                from ..dicom import Study

                self._show_dicom_identity(Study(study.study_instance_uid,
                                                description=study.study_description or ""))

    def has_value(self, field: str) -> bool:
        """Whether the widget of a modality-dependent field holds something (then it is never hidden)."""
        if field == "edema_regions":
            return any(box.isChecked() for box in self.region_boxes.values())
        widget = getattr(self.ui, field)
        if isinstance(widget, QComboBox):
            return widget.currentData() is not None
        return bool(widget.text().strip())

    def update_visibility(self) -> None:
        """Show the fields of the chosen modality, and every field that holds a value."""
        shown = MODALITY_FIELDS.get(self.ui.modality.currentData(), set())
        self.hidden = {f for f in MODALITY_DEPENDENT if f not in shown and not self.has_value(f)}
        for field in MODALITY_DEPENDENT:
            visible = field not in self.hidden
            getattr(self.ui, f"{field}_label").setVisible(visible)
            getattr(self.ui, field).setVisible(visible)
            error = getattr(self.ui, f"{field}_error")
            error.setVisible(visible and bool(error.text()))
        self.ui.edema_group.setVisible(any(f not in self.hidden for f in EDEMA_FIELDS))

    def field_shown(self, field: str) -> bool:
        return field not in self.hidden

    def read(self) -> tuple[ImagingStudy, list[Problem]]:
        ui = self.ui
        problems: list[Problem] = []
        values = dict(
            date=date_of(ui.date),
            time=time_text(ui.time) if ui.time_check.isChecked() else None,
            modality=ui.modality.currentData(),
            edema_extent_pct=parse_number(ui.edema_extent_pct.text(), "edema_extent_pct", problems),
            edema_volume_ml=parse_number(ui.edema_volume_ml.text(), "edema_volume_ml", problems),
            edema_regions=checked_codes(self.region_boxes, self.original.edema_regions if self.original else []),
            dce_enhancement=ui.dce_enhancement.currentData(),
            scintigraphy_uptake=ui.scintigraphy_uptake.currentData(),
            accession=ui.accession.text(),
            report=long_text(ui.report, "report", problems),
        )
        if self.dicom_study is not None:
            values.update(study_instance_uid=self.dicom_study.study_instance_uid,
                          study_description=self.dicom_study.description or None)
        for finding in FINDINGS:
            values[finding] = getattr(ui, finding).currentData()
        return self.build(**values), problems

    def check(self, study: ImagingStudy) -> list[Problem]:
        return check_imaging(study, "", self.onset, self.today, self.site)

    def mark_widgets(self, field: str):
        return [self.ui.time] if field == "time" else super().mark_widgets(field)

    def title(self) -> str:
        if self.original is None:
            return "New imaging study"
        modality = MODALITY_LABELS.get(self.original.modality, self.original.modality)
        return f"Edit imaging study — {modality} of {self.original.date.isoformat()}"
