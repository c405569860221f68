# Generated from ui/patient_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'patient_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, QSize, Qt)
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

class Ui_PatientDialog(object):
    def setupUi(self, PatientDialog):
        if not PatientDialog.objectName():
            PatientDialog.setObjectName(u"PatientDialog")
        PatientDialog.resize(460, 360)
        self.main_layout = QVBoxLayout(PatientDialog)
        self.main_layout.setObjectName(u"main_layout")
        self.banner_layout = QHBoxLayout()
        self.banner_layout.setObjectName(u"banner_layout")
        self.banner = QLabel(PatientDialog)
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

        self.reload_button = QPushButton(PatientDialog)
        self.reload_button.setObjectName(u"reload_button")
        self.reload_button.setVisible(False)
        self.reload_button.setAutoDefault(False)

        self.banner_layout.addWidget(self.reload_button)


        self.main_layout.addLayout(self.banner_layout)

        self.fields_layout = QGridLayout()
        self.fields_layout.setObjectName(u"fields_layout")
        self.mrn_label = QLabel(PatientDialog)
        self.mrn_label.setObjectName(u"mrn_label")

        self.fields_layout.addWidget(self.mrn_label, 0, 0, 1, 1)

        self.mrn = QLineEdit(PatientDialog)
        self.mrn.setObjectName(u"mrn")
        self.mrn.setMaxLength(64)

        self.fields_layout.addWidget(self.mrn, 0, 1, 1, 1)

        self.mrn_error = QLabel(PatientDialog)
        self.mrn_error.setObjectName(u"mrn_error")
        self.mrn_error.setVisible(False)
        self.mrn_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.mrn_error.setTextFormat(Qt.TextFormat.PlainText)
        self.mrn_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.mrn_error, 1, 1, 1, 1)

        self.family_name_label = QLabel(PatientDialog)
        self.family_name_label.setObjectName(u"family_name_label")

        self.fields_layout.addWidget(self.family_name_label, 2, 0, 1, 1)

        self.family_name = QLineEdit(PatientDialog)
        self.family_name.setObjectName(u"family_name")
        self.family_name.setMaxLength(200)

        self.fields_layout.addWidget(self.family_name, 2, 1, 1, 1)

        self.family_name_error = QLabel(PatientDialog)
        self.family_name_error.setObjectName(u"family_name_error")
        self.family_name_error.setVisible(False)
        self.family_name_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.family_name_error.setTextFormat(Qt.TextFormat.PlainText)
        self.family_name_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.family_name_error, 3, 1, 1, 1)

        self.given_name_label = QLabel(PatientDialog)
        self.given_name_label.setObjectName(u"given_name_label")

        self.fields_layout.addWidget(self.given_name_label, 4, 0, 1, 1)

        self.given_name = QLineEdit(PatientDialog)
        self.given_name.setObjectName(u"given_name")
        self.given_name.setMaxLength(200)

        self.fields_layout.addWidget(self.given_name, 4, 1, 1, 1)

        self.given_name_error = QLabel(PatientDialog)
        self.given_name_error.setObjectName(u"given_name_error")
        self.given_name_error.setVisible(False)
        self.given_name_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.given_name_error.setTextFormat(Qt.TextFormat.PlainText)
        self.given_name_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.given_name_error, 5, 1, 1, 1)

        self.birth_date_label = QLabel(PatientDialog)
        self.birth_date_label.setObjectName(u"birth_date_label")

        self.fields_layout.addWidget(self.birth_date_label, 6, 0, 1, 1)

        self.birth_date = QDateEdit(PatientDialog)
        self.birth_date.setObjectName(u"birth_date")
        self.birth_date.setDisplayFormat(u"yyyy-MM-dd")
        self.birth_date.setCalendarPopup(True)

        self.fields_layout.addWidget(self.birth_date, 6, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.birth_date_error = QLabel(PatientDialog)
        self.birth_date_error.setObjectName(u"birth_date_error")
        self.birth_date_error.setVisible(False)
        self.birth_date_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.birth_date_error.setTextFormat(Qt.TextFormat.PlainText)
        self.birth_date_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.birth_date_error, 7, 1, 1, 1)

        self.sex_label = QLabel(PatientDialog)
        self.sex_label.setObjectName(u"sex_label")

        self.fields_layout.addWidget(self.sex_label, 8, 0, 1, 1)

        self.sex = QComboBox(PatientDialog)
        self.sex.setObjectName(u"sex")

        self.fields_layout.addWidget(self.sex, 8, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.sex_error = QLabel(PatientDialog)
        self.sex_error.setObjectName(u"sex_error")
        self.sex_error.setVisible(False)
        self.sex_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.sex_error.setTextFormat(Qt.TextFormat.PlainText)
        self.sex_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.sex_error, 9, 1, 1, 1)

        self.notes_label = QLabel(PatientDialog)
        self.notes_label.setObjectName(u"notes_label")

        self.fields_layout.addWidget(self.notes_label, 10, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.notes = QPlainTextEdit(PatientDialog)
        self.notes.setObjectName(u"notes")
        self.notes.setMinimumSize(QSize(0, 72))
        self.notes.setTabChangesFocus(True)

        self.fields_layout.addWidget(self.notes, 10, 1, 1, 1)

        self.notes_error = QLabel(PatientDialog)
        self.notes_error.setObjectName(u"notes_error")
        self.notes_error.setVisible(False)
        self.notes_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.notes_error.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.notes_error, 11, 1, 1, 1)

        self.fields_layout.setColumnStretch(1, 1)

        self.main_layout.addLayout(self.fields_layout)

        self.button_box = QDialogButtonBox(PatientDialog)
        self.button_box.setObjectName(u"button_box")
        self.button_box.setStandardButtons(QDialogButtonBox.StandardButton.Cancel|QDialogButtonBox.StandardButton.Ok)

        self.main_layout.addWidget(self.button_box)

#if QT_CONFIG(shortcut)
        self.mrn_label.setBuddy(self.mrn)
        self.family_name_label.setBuddy(self.family_name)
        self.given_name_label.setBuddy(self.given_name)
        self.birth_date_label.setBuddy(self.birth_date)
        self.sex_label.setBuddy(self.sex)
        self.notes_label.setBuddy(self.notes)
#endif // QT_CONFIG(shortcut)
        QWidget.setTabOrder(self.mrn, self.family_name)
        QWidget.setTabOrder(self.family_name, self.given_name)
        QWidget.setTabOrder(self.given_name, self.birth_date)
        QWidget.setTabOrder(self.birth_date, self.sex)
        QWidget.setTabOrder(self.sex, self.notes)
        QWidget.setTabOrder(self.notes, self.button_box)
        QWidget.setTabOrder(self.button_box, self.reload_button)

        self.retranslateUi(PatientDialog)
    # setupUi

    def retranslateUi(self, PatientDialog):
        PatientDialog.setWindowTitle(QCoreApplication.translate("PatientDialog", u"Patient", None))
#if QT_CONFIG(tooltip)
        self.reload_button.setToolTip(QCoreApplication.translate("PatientDialog", u"Load the version saved by the other window or workstation (what you typed here is replaced)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.reload_button.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Reload the saved record", None))
#endif // QT_CONFIG(accessibility)
        self.reload_button.setText(QCoreApplication.translate("PatientDialog", u"&Reload", None))
#if QT_CONFIG(tooltip)
        self.mrn_label.setToolTip(QCoreApplication.translate("PatientDialog", u"The hospital's medical record number; unique", None))
#endif // QT_CONFIG(tooltip)
        self.mrn_label.setText(QCoreApplication.translate("PatientDialog", u"&MRN", None))
#if QT_CONFIG(tooltip)
        self.mrn.setToolTip(QCoreApplication.translate("PatientDialog", u"The hospital's medical record number; unique", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.mrn.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Medical record number (MRN)", None))
#endif // QT_CONFIG(accessibility)
        self.mrn.setPlaceholderText(QCoreApplication.translate("PatientDialog", u"required", None))
        self.family_name_label.setText(QCoreApplication.translate("PatientDialog", u"&Family name", None))
#if QT_CONFIG(accessibility)
        self.family_name.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Family name", None))
#endif // QT_CONFIG(accessibility)
        self.family_name.setPlaceholderText(QCoreApplication.translate("PatientDialog", u"required", None))
        self.given_name_label.setText(QCoreApplication.translate("PatientDialog", u"&Given name", None))
#if QT_CONFIG(accessibility)
        self.given_name.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Given name", None))
#endif // QT_CONFIG(accessibility)
        self.birth_date_label.setText(QCoreApplication.translate("PatientDialog", u"Date of &birth", None))
#if QT_CONFIG(accessibility)
        self.birth_date.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Date of birth", None))
#endif // QT_CONFIG(accessibility)
        self.sex_label.setText(QCoreApplication.translate("PatientDialog", u"&Sex", None))
#if QT_CONFIG(accessibility)
        self.sex.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Sex", None))
#endif // QT_CONFIG(accessibility)
        self.notes_label.setText(QCoreApplication.translate("PatientDialog", u"&Notes", None))
#if QT_CONFIG(accessibility)
        self.notes.setAccessibleName(QCoreApplication.translate("PatientDialog", u"Notes", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

