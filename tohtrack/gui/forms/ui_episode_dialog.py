# Generated from ui/episode_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'episode_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, QSize, Qt)
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

class Ui_EpisodeDialog(object):
    def setupUi(self, EpisodeDialog):
        if not EpisodeDialog.objectName():
            EpisodeDialog.setObjectName(u"EpisodeDialog")
        EpisodeDialog.resize(560, 440)
        self.main_layout = QVBoxLayout(EpisodeDialog)
        self.main_layout.setObjectName(u"main_layout")
        self.banner_layout = QHBoxLayout()
        self.banner_layout.setObjectName(u"banner_layout")
        self.banner = QLabel(EpisodeDialog)
        self.banner.setObjectName(u"banner")
        self.banner.setVisible(False)
        sizePolicy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        sizePolicy.setHorizontalStretch(0)
        sizePolicy.setVerticalStretch(0)
        sizePolicy.setHeightForWidth(self.banner.sizePolicy().hasHeightForWidth())
        self.banner.setSizePolicy(sizePolicy)
        self.banner.setStyleSheet(u"QLabel { background: #fdecea; color: #8c1d18; border: 1px solid #eea9a3; border-radius: 4px; padding: 6px; }\n"
"QLabel[kind=\"info\"] { background: #e8f1fb; color: #0b3d6e; border-color: #a9c8ec; }")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)

        self.banner_layout.addWidget(self.banner)

        self.reload_button = QPushButton(EpisodeDialog)
        self.reload_button.setObjectName(u"reload_button")
        self.reload_button.setVisible(False)
        self.reload_button.setAutoDefault(False)

        self.banner_layout.addWidget(self.reload_button)


        self.main_layout.addLayout(self.banner_layout)

        self.fields_layout = QGridLayout()
        self.fields_layout.setObjectName(u"fields_layout")
        self.site_label = QLabel(EpisodeDialog)
        self.site_label.setObjectName(u"site_label")

        self.fields_layout.addWidget(self.site_label, 0, 0, 1, 1)

        self.site = QComboBox(EpisodeDialog)
        self.site.setObjectName(u"site")

        self.fields_layout.addWidget(self.site, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.site_error = QLabel(EpisodeDialog)
        self.site_error.setObjectName(u"site_error")
        self.site_error.setVisible(False)
        self.site_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.site_error.setTextFormat(Qt.TextFormat.PlainText)
        self.site_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.site_error, 1, 1, 1, 1)

        self.symptom_onset_label = QLabel(EpisodeDialog)
        self.symptom_onset_label.setObjectName(u"symptom_onset_label")

        self.fields_layout.addWidget(self.symptom_onset_label, 2, 0, 1, 1)

        self.symptom_onset = QDateEdit(EpisodeDialog)
        self.symptom_onset.setObjectName(u"symptom_onset")
        self.symptom_onset.setDisplayFormat(u"yyyy-MM-dd")
        self.symptom_onset.setCalendarPopup(True)

        self.fields_layout.addWidget(self.symptom_onset, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.symptom_onset_error = QLabel(EpisodeDialog)
        self.symptom_onset_error.setObjectName(u"symptom_onset_error")
        self.symptom_onset_error.setVisible(False)
        self.symptom_onset_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.symptom_onset_error.setTextFormat(Qt.TextFormat.PlainText)
        self.symptom_onset_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.symptom_onset_error, 3, 1, 1, 1)

        self.resolved_on_check = QCheckBox(EpisodeDialog)
        self.resolved_on_check.setObjectName(u"resolved_on_check")

        self.fields_layout.addWidget(self.resolved_on_check, 4, 0, 1, 1)

        self.resolved_on = QDateEdit(EpisodeDialog)
        self.resolved_on.setObjectName(u"resolved_on")
        self.resolved_on.setDisplayFormat(u"yyyy-MM-dd")
        self.resolved_on.setCalendarPopup(True)

        self.fields_layout.addWidget(self.resolved_on, 4, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.resolved_on_error = QLabel(EpisodeDialog)
        self.resolved_on_error.setObjectName(u"resolved_on_error")
        self.resolved_on_error.setVisible(False)
        self.resolved_on_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.resolved_on_error.setTextFormat(Qt.TextFormat.PlainText)
        self.resolved_on_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.resolved_on_error, 5, 1, 1, 1)

        self.diagnosis_label = QLabel(EpisodeDialog)
        self.diagnosis_label.setObjectName(u"diagnosis_label")

        self.fields_layout.addWidget(self.diagnosis_label, 6, 0, 1, 1)

        self.diagnosis = QComboBox(EpisodeDialog)
        self.diagnosis.setObjectName(u"diagnosis")

        self.fields_layout.addWidget(self.diagnosis, 6, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.diagnosis_error = QLabel(EpisodeDialog)
        self.diagnosis_error.setObjectName(u"diagnosis_error")
        self.diagnosis_error.setVisible(False)
        self.diagnosis_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.diagnosis_error.setTextFormat(Qt.TextFormat.PlainText)
        self.diagnosis_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.diagnosis_error, 7, 1, 1, 1)

        self.pregnancy_label = QLabel(EpisodeDialog)
        self.pregnancy_label.setObjectName(u"pregnancy_label")

        self.fields_layout.addWidget(self.pregnancy_label, 8, 0, 1, 1)

        self.pregnancy = QComboBox(EpisodeDialog)
        self.pregnancy.setObjectName(u"pregnancy")

        self.fields_layout.addWidget(self.pregnancy, 8, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.pregnancy_error = QLabel(EpisodeDialog)
        self.pregnancy_error.setObjectName(u"pregnancy_error")
        self.pregnancy_error.setVisible(False)
        self.pregnancy_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.pregnancy_error.setTextFormat(Qt.TextFormat.PlainText)
        self.pregnancy_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.pregnancy_error, 9, 1, 1, 1)

        self.avn_risk_factors_label = QLabel(EpisodeDialog)
        self.avn_risk_factors_label.setObjectName(u"avn_risk_factors_label")

        self.fields_layout.addWidget(self.avn_risk_factors_label, 10, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.avn_risk_factors = QWidget(EpisodeDialog)
        self.avn_risk_factors.setObjectName(u"avn_risk_factors")
        self.avn_risk_factors_layout = QGridLayout(self.avn_risk_factors)
        self.avn_risk_factors_layout.setObjectName(u"avn_risk_factors_layout")
        self.avn_risk_factors_layout.setContentsMargins(0, 0, 0, 0)
        self.avn_risk_factors_corticosteroids = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_corticosteroids.setObjectName(u"avn_risk_factors_corticosteroids")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_corticosteroids, 0, 0, 1, 1)

        self.avn_risk_factors_alcohol = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_alcohol.setObjectName(u"avn_risk_factors_alcohol")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_alcohol, 0, 1, 1, 1)

        self.avn_risk_factors_smoking = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_smoking.setObjectName(u"avn_risk_factors_smoking")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_smoking, 0, 2, 1, 1)

        self.avn_risk_factors_sickle_cell = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_sickle_cell.setObjectName(u"avn_risk_factors_sickle_cell")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_sickle_cell, 1, 0, 1, 1)

        self.avn_risk_factors_gaucher = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_gaucher.setObjectName(u"avn_risk_factors_gaucher")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_gaucher, 1, 1, 1, 1)

        self.avn_risk_factors_sle = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_sle.setObjectName(u"avn_risk_factors_sle")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_sle, 1, 2, 1, 1)

        self.avn_risk_factors_hiv = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_hiv.setObjectName(u"avn_risk_factors_hiv")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_hiv, 2, 0, 1, 1)

        self.avn_risk_factors_radiation = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_radiation.setObjectName(u"avn_risk_factors_radiation")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_radiation, 2, 1, 1, 1)

        self.avn_risk_factors_chemotherapy = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_chemotherapy.setObjectName(u"avn_risk_factors_chemotherapy")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_chemotherapy, 2, 2, 1, 1)

        self.avn_risk_factors_trauma = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_trauma.setObjectName(u"avn_risk_factors_trauma")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_trauma, 3, 0, 1, 1)

        self.avn_risk_factors_decompression_illness = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_decompression_illness.setObjectName(u"avn_risk_factors_decompression_illness")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_decompression_illness, 3, 1, 1, 1)

        self.avn_risk_factors_other = QCheckBox(self.avn_risk_factors)
        self.avn_risk_factors_other.setObjectName(u"avn_risk_factors_other")

        self.avn_risk_factors_layout.addWidget(self.avn_risk_factors_other, 3, 2, 1, 1)


        self.fields_layout.addWidget(self.avn_risk_factors, 10, 1, 1, 1)

        self.avn_risk_factors_error = QLabel(EpisodeDialog)
        self.avn_risk_factors_error.setObjectName(u"avn_risk_factors_error")
        self.avn_risk_factors_error.setVisible(False)
        self.avn_risk_factors_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.avn_risk_factors_error.setTextFormat(Qt.TextFormat.PlainText)
        self.avn_risk_factors_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.avn_risk_factors_error, 11, 1, 1, 1)

        self.notes_label = QLabel(EpisodeDialog)
        self.notes_label.setObjectName(u"notes_label")

        self.fields_layout.addWidget(self.notes_label, 12, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.notes = QPlainTextEdit(EpisodeDialog)
        self.notes.setObjectName(u"notes")
        self.notes.setMinimumSize(QSize(0, 64))
        self.notes.setTabChangesFocus(True)

        self.fields_layout.addWidget(self.notes, 12, 1, 1, 1)

        self.notes_error = QLabel(EpisodeDialog)
        self.notes_error.setObjectName(u"notes_error")
        self.notes_error.setVisible(False)
        self.notes_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.notes_error.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.notes_error, 13, 1, 1, 1)

        self.fields_layout.setColumnStretch(1, 1)

        self.main_layout.addLayout(self.fields_layout)

        self.button_box = QDialogButtonBox(EpisodeDialog)
        self.button_box.setObjectName(u"button_box")
        self.button_box.setStandardButtons(QDialogButtonBox.StandardButton.Cancel|QDialogButtonBox.StandardButton.Ok)

        self.main_layout.addWidget(self.button_box)

#if QT_CONFIG(shortcut)
        self.site_label.setBuddy(self.site)
        self.symptom_onset_label.setBuddy(self.symptom_onset)
        self.diagnosis_label.setBuddy(self.diagnosis)
        self.pregnancy_label.setBuddy(self.pregnancy)
        self.avn_risk_factors_label.setBuddy(self.avn_risk_factors_corticosteroids)
        self.notes_label.setBuddy(self.notes)
#endif // QT_CONFIG(shortcut)
        QWidget.setTabOrder(self.site, self.symptom_onset)
        QWidget.setTabOrder(self.symptom_onset, self.resolved_on_check)
        QWidget.setTabOrder(self.resolved_on_check, self.resolved_on)
        QWidget.setTabOrder(self.resolved_on, self.diagnosis)
        QWidget.setTabOrder(self.diagnosis, self.pregnancy)
        QWidget.setTabOrder(self.pregnancy, self.avn_risk_factors_corticosteroids)
        QWidget.setTabOrder(self.avn_risk_factors_corticosteroids, self.avn_risk_factors_alcohol)
        QWidget.setTabOrder(self.avn_risk_factors_alcohol, self.avn_risk_factors_smoking)
        QWidget.setTabOrder(self.avn_risk_factors_smoking, self.avn_risk_factors_sickle_cell)
        QWidget.setTabOrder(self.avn_risk_factors_sickle_cell, self.avn_risk_factors_gaucher)
        QWidget.setTabOrder(self.avn_risk_factors_gaucher, self.avn_risk_factors_sle)
        QWidget.setTabOrder(self.avn_risk_factors_sle, self.avn_risk_factors_hiv)
        QWidget.setTabOrder(self.avn_risk_factors_hiv, self.avn_risk_factors_radiation)
        QWidget.setTabOrder(self.avn_risk_factors_radiation, self.avn_risk_factors_chemotherapy)
        QWidget.setTabOrder(self.avn_risk_factors_chemotherapy, self.avn_risk_factors_trauma)
        QWidget.setTabOrder(self.avn_risk_factors_trauma, self.avn_risk_factors_decompression_illness)
        QWidget.setTabOrder(self.avn_risk_factors_decompression_illness, self.avn_risk_factors_other)
        QWidget.setTabOrder(self.avn_risk_factors_other, self.notes)
        QWidget.setTabOrder(self.notes, self.button_box)
        QWidget.setTabOrder(self.button_box, self.reload_button)

        self.retranslateUi(EpisodeDialog)
    # setupUi

    def retranslateUi(self, EpisodeDialog):
        EpisodeDialog.setWindowTitle(QCoreApplication.translate("EpisodeDialog", u"Episode", None))
#if QT_CONFIG(tooltip)
        self.reload_button.setToolTip(QCoreApplication.translate("EpisodeDialog", u"Load the version saved by the other window or workstation (what you typed here is replaced)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.reload_button.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Reload the saved record", None))
#endif // QT_CONFIG(accessibility)
        self.reload_button.setText(QCoreApplication.translate("EpisodeDialog", u"&Reload", None))
#if QT_CONFIG(tooltip)
        self.site_label.setToolTip(QCoreApplication.translate("EpisodeDialog", u"The joint and side of this episode", None))
#endif // QT_CONFIG(tooltip)
        self.site_label.setText(QCoreApplication.translate("EpisodeDialog", u"&Site", None))
#if QT_CONFIG(tooltip)
        self.site.setToolTip(QCoreApplication.translate("EpisodeDialog", u"The joint and side of this episode", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.site.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Site", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.symptom_onset_label.setToolTip(QCoreApplication.translate("EpisodeDialog", u"The day the pain began", None))
#endif // QT_CONFIG(tooltip)
        self.symptom_onset_label.setText(QCoreApplication.translate("EpisodeDialog", u"Symptom &onset", None))
#if QT_CONFIG(tooltip)
        self.symptom_onset.setToolTip(QCoreApplication.translate("EpisodeDialog", u"The day the pain began", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.symptom_onset.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Date of symptom onset", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.resolved_on_check.setToolTip(QCoreApplication.translate("EpisodeDialog", u"The day the episode was judged resolved: symptoms gone, and edema gone on imaging where imaged", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.resolved_on_check.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Episode resolved", None))
#endif // QT_CONFIG(accessibility)
        self.resolved_on_check.setText(QCoreApplication.translate("EpisodeDialog", u"Resol&ved on", None))
#if QT_CONFIG(accessibility)
        self.resolved_on.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Date resolved", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.diagnosis_label.setToolTip(QCoreApplication.translate("EpisodeDialog", u"Transient osteoporosis unless revised; a revised diagnosis takes the episode out of the TOH course rules", None))
#endif // QT_CONFIG(tooltip)
        self.diagnosis_label.setText(QCoreApplication.translate("EpisodeDialog", u"&Diagnosis", None))
#if QT_CONFIG(tooltip)
        self.diagnosis.setToolTip(QCoreApplication.translate("EpisodeDialog", u"Transient osteoporosis unless revised; a revised diagnosis takes the episode out of the TOH course rules", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.diagnosis.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Diagnosis", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.pregnancy_label.setToolTip(QCoreApplication.translate("EpisodeDialog", u"In women TOH occurs mostly in the third trimester of pregnancy", None))
#endif // QT_CONFIG(tooltip)
        self.pregnancy_label.setText(QCoreApplication.translate("EpisodeDialog", u"&Pregnancy at onset", None))
#if QT_CONFIG(tooltip)
        self.pregnancy.setToolTip(QCoreApplication.translate("EpisodeDialog", u"In women TOH occurs mostly in the third trimester of pregnancy", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.pregnancy.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Pregnancy at onset", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.avn_risk_factors_label.setToolTip(QCoreApplication.translate("EpisodeDialog", u"Risk factors for avascular necrosis (AVN); patients with TOH usually have none", None))
#endif // QT_CONFIG(tooltip)
        self.avn_risk_factors_label.setText(QCoreApplication.translate("EpisodeDialog", u"AVN risk &factors", None))
#if QT_CONFIG(tooltip)
        self.avn_risk_factors.setToolTip(QCoreApplication.translate("EpisodeDialog", u"Risk factors for avascular necrosis (AVN); patients with TOH usually have none", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.avn_risk_factors.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Risk factors for avascular necrosis", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_corticosteroids.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Corticosteroids", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_corticosteroids.setText(QCoreApplication.translate("EpisodeDialog", u"Corticosteroids", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_alcohol.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Alcohol", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_alcohol.setText(QCoreApplication.translate("EpisodeDialog", u"Alcohol", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_smoking.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Smoking", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_smoking.setText(QCoreApplication.translate("EpisodeDialog", u"Smoking", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_sickle_cell.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Sickle cell disease", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_sickle_cell.setText(QCoreApplication.translate("EpisodeDialog", u"Sickle cell disease", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_gaucher.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Gaucher disease", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_gaucher.setText(QCoreApplication.translate("EpisodeDialog", u"Gaucher disease", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_sle.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: SLE (lupus)", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_sle.setText(QCoreApplication.translate("EpisodeDialog", u"SLE (lupus)", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_hiv.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: HIV", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_hiv.setText(QCoreApplication.translate("EpisodeDialog", u"HIV", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_radiation.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Radiation", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_radiation.setText(QCoreApplication.translate("EpisodeDialog", u"Radiation", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_chemotherapy.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Chemotherapy", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_chemotherapy.setText(QCoreApplication.translate("EpisodeDialog", u"Chemotherapy", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_trauma.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Trauma", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_trauma.setText(QCoreApplication.translate("EpisodeDialog", u"Trauma", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_decompression_illness.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Decompression illness", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_decompression_illness.setText(QCoreApplication.translate("EpisodeDialog", u"Decompression illness", None))
#if QT_CONFIG(accessibility)
        self.avn_risk_factors_other.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"AVN risk factor: Other", None))
#endif // QT_CONFIG(accessibility)
        self.avn_risk_factors_other.setText(QCoreApplication.translate("EpisodeDialog", u"Other", None))
        self.notes_label.setText(QCoreApplication.translate("EpisodeDialog", u"&Notes", None))
#if QT_CONFIG(accessibility)
        self.notes.setAccessibleName(QCoreApplication.translate("EpisodeDialog", u"Episode notes", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

