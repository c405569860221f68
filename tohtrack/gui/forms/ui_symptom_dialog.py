# Generated from ui/symptom_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'symptom_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, QSize, Qt)
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

class Ui_SymptomDialog(object):
    def setupUi(self, SymptomDialog):
        if not SymptomDialog.objectName():
            SymptomDialog.setObjectName(u"SymptomDialog")
        SymptomDialog.resize(460, 340)
        self.main_layout = QVBoxLayout(SymptomDialog)
        self.main_layout.setObjectName(u"main_layout")
        self.banner_layout = QHBoxLayout()
        self.banner_layout.setObjectName(u"banner_layout")
        self.banner = QLabel(SymptomDialog)
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

        self.reload_button = QPushButton(SymptomDialog)
        self.reload_button.setObjectName(u"reload_button")
        self.reload_button.setVisible(False)
        self.reload_button.setAutoDefault(False)

        self.banner_layout.addWidget(self.reload_button)


        self.main_layout.addLayout(self.banner_layout)

        self.fields_layout = QGridLayout()
        self.fields_layout.setObjectName(u"fields_layout")
        self.date_label = QLabel(SymptomDialog)
        self.date_label.setObjectName(u"date_label")

        self.fields_layout.addWidget(self.date_label, 0, 0, 1, 1)

        self.date = QDateEdit(SymptomDialog)
        self.date.setObjectName(u"date")
        self.date.setDisplayFormat(u"yyyy-MM-dd")
        self.date.setCalendarPopup(True)

        self.fields_layout.addWidget(self.date, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.date_error = QLabel(SymptomDialog)
        self.date_error.setObjectName(u"date_error")
        self.date_error.setVisible(False)
        self.date_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.date_error.setTextFormat(Qt.TextFormat.PlainText)
        self.date_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.date_error, 1, 1, 1, 1)

        self.pain_nrs_label = QLabel(SymptomDialog)
        self.pain_nrs_label.setObjectName(u"pain_nrs_label")

        self.fields_layout.addWidget(self.pain_nrs_label, 2, 0, 1, 1)

        self.pain_nrs = QLineEdit(SymptomDialog)
        self.pain_nrs.setObjectName(u"pain_nrs")
        self.pain_nrs.setMaxLength(12)

        self.fields_layout.addWidget(self.pain_nrs, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.pain_nrs_error = QLabel(SymptomDialog)
        self.pain_nrs_error.setObjectName(u"pain_nrs_error")
        self.pain_nrs_error.setVisible(False)
        self.pain_nrs_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.pain_nrs_error.setTextFormat(Qt.TextFormat.PlainText)
        self.pain_nrs_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.pain_nrs_error, 3, 1, 1, 1)

        self.function_score_label = QLabel(SymptomDialog)
        self.function_score_label.setObjectName(u"function_score_label")

        self.fields_layout.addWidget(self.function_score_label, 4, 0, 1, 1)

        self.function_score = QLineEdit(SymptomDialog)
        self.function_score.setObjectName(u"function_score")
        self.function_score.setMaxLength(12)

        self.fields_layout.addWidget(self.function_score, 4, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.function_score_error = QLabel(SymptomDialog)
        self.function_score_error.setObjectName(u"function_score_error")
        self.function_score_error.setVisible(False)
        self.function_score_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.function_score_error.setTextFormat(Qt.TextFormat.PlainText)
        self.function_score_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.function_score_error, 5, 1, 1, 1)

        self.function_instrument_label = QLabel(SymptomDialog)
        self.function_instrument_label.setObjectName(u"function_instrument_label")

        self.fields_layout.addWidget(self.function_instrument_label, 6, 0, 1, 1)

        self.function_instrument = QLineEdit(SymptomDialog)
        self.function_instrument.setObjectName(u"function_instrument")
        self.function_instrument.setMaxLength(200)

        self.fields_layout.addWidget(self.function_instrument, 6, 1, 1, 1)

        self.function_instrument_error = QLabel(SymptomDialog)
        self.function_instrument_error.setObjectName(u"function_instrument_error")
        self.function_instrument_error.setVisible(False)
        self.function_instrument_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.function_instrument_error.setTextFormat(Qt.TextFormat.PlainText)
        self.function_instrument_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.function_instrument_error, 7, 1, 1, 1)

        self.weight_bearing_label = QLabel(SymptomDialog)
        self.weight_bearing_label.setObjectName(u"weight_bearing_label")

        self.fields_layout.addWidget(self.weight_bearing_label, 8, 0, 1, 1)

        self.weight_bearing = QComboBox(SymptomDialog)
        self.weight_bearing.setObjectName(u"weight_bearing")

        self.fields_layout.addWidget(self.weight_bearing, 8, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.weight_bearing_error = QLabel(SymptomDialog)
        self.weight_bearing_error.setObjectName(u"weight_bearing_error")
        self.weight_bearing_error.setVisible(False)
        self.weight_bearing_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.weight_bearing_error.setTextFormat(Qt.TextFormat.PlainText)
        self.weight_bearing_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.weight_bearing_error, 9, 1, 1, 1)

        self.note_label = QLabel(SymptomDialog)
        self.note_label.setObjectName(u"note_label")

        self.fields_layout.addWidget(self.note_label, 10, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.note = QPlainTextEdit(SymptomDialog)
        self.note.setObjectName(u"note")
        self.note.setMinimumSize(QSize(0, 64))
        self.note.setTabChangesFocus(True)

        self.fields_layout.addWidget(self.note, 10, 1, 1, 1)

        self.note_error = QLabel(SymptomDialog)
        self.note_error.setObjectName(u"note_error")
        self.note_error.setVisible(False)
        self.note_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.note_error.setTextFormat(Qt.TextFormat.PlainText)
        self.note_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.note_error, 11, 1, 1, 1)

        self.fields_layout.setColumnStretch(1, 1)

        self.main_layout.addLayout(self.fields_layout)

        self.button_box = QDialogButtonBox(SymptomDialog)
        self.button_box.setObjectName(u"button_box")
        self.button_box.setStandardButtons(QDialogButtonBox.StandardButton.Cancel|QDialogButtonBox.StandardButton.Ok)

        self.main_layout.addWidget(self.button_box)

#if QT_CONFIG(shortcut)
        self.date_label.setBuddy(self.date)
        self.pain_nrs_label.setBuddy(self.pain_nrs)
        self.function_score_label.setBuddy(self.function_score)
        self.function_instrument_label.setBuddy(self.function_instrument)
        self.weight_bearing_label.setBuddy(self.weight_bearing)
        self.note_label.setBuddy(self.note)
#endif // QT_CONFIG(shortcut)
        QWidget.setTabOrder(self.date, self.pain_nrs)
        QWidget.setTabOrder(self.pain_nrs, self.function_score)
        QWidget.setTabOrder(self.function_score, self.function_instrument)
        QWidget.setTabOrder(self.function_instrument, self.weight_bearing)
        QWidget.setTabOrder(self.weight_bearing, self.note)
        QWidget.setTabOrder(self.note, self.button_box)
        QWidget.setTabOrder(self.button_box, self.reload_button)

        self.retranslateUi(SymptomDialog)
    # setupUi

    def retranslateUi(self, SymptomDialog):
        SymptomDialog.setWindowTitle(QCoreApplication.translate("SymptomDialog", u"Symptom record", None))
#if QT_CONFIG(tooltip)
        self.reload_button.setToolTip(QCoreApplication.translate("SymptomDialog", u"Load the version saved by the other window or workstation (what you typed here is replaced)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.reload_button.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Reload the saved record", None))
#endif // QT_CONFIG(accessibility)
        self.reload_button.setText(QCoreApplication.translate("SymptomDialog", u"&Reload", None))
        self.date_label.setText(QCoreApplication.translate("SymptomDialog", u"&Date", None))
#if QT_CONFIG(accessibility)
        self.date.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Date of the symptom record", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.pain_nrs_label.setToolTip(QCoreApplication.translate("SymptomDialog", u"Pain on the numeric rating scale: 0 no pain, 10 worst imaginable; leave empty if not recorded", None))
#endif // QT_CONFIG(tooltip)
        self.pain_nrs_label.setText(QCoreApplication.translate("SymptomDialog", u"&Pain (NRS 0\u201310)", None))
#if QT_CONFIG(tooltip)
        self.pain_nrs.setToolTip(QCoreApplication.translate("SymptomDialog", u"Pain on the numeric rating scale: 0 no pain, 10 worst imaginable; leave empty if not recorded", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.pain_nrs.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Pain, numeric rating scale 0 to 10", None))
#endif // QT_CONFIG(accessibility)
        self.pain_nrs.setPlaceholderText(QCoreApplication.translate("SymptomDialog", u"not recorded", None))
#if QT_CONFIG(tooltip)
        self.function_score_label.setToolTip(QCoreApplication.translate("SymptomDialog", u"Hip function score, 0 to 100 (higher is better); leave empty if not recorded", None))
#endif // QT_CONFIG(tooltip)
        self.function_score_label.setText(QCoreApplication.translate("SymptomDialog", u"&Function score (0\u2013100)", None))
#if QT_CONFIG(tooltip)
        self.function_score.setToolTip(QCoreApplication.translate("SymptomDialog", u"Hip function score, 0 to 100 (higher is better); leave empty if not recorded", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.function_score.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Function score 0 to 100", None))
#endif // QT_CONFIG(accessibility)
        self.function_score.setPlaceholderText(QCoreApplication.translate("SymptomDialog", u"not recorded", None))
#if QT_CONFIG(tooltip)
        self.function_instrument_label.setToolTip(QCoreApplication.translate("SymptomDialog", u"The score used, e.g. Harris Hip Score (free to use); licensed scores need a licence", None))
#endif // QT_CONFIG(tooltip)
        self.function_instrument_label.setText(QCoreApplication.translate("SymptomDialog", u"&Instrument", None))
#if QT_CONFIG(tooltip)
        self.function_instrument.setToolTip(QCoreApplication.translate("SymptomDialog", u"The score used, e.g. Harris Hip Score (free to use); licensed scores need a licence", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.function_instrument.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Function score instrument", None))
#endif // QT_CONFIG(accessibility)
        self.weight_bearing_label.setText(QCoreApplication.translate("SymptomDialog", u"&Weight bearing", None))
#if QT_CONFIG(accessibility)
        self.weight_bearing.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Weight-bearing status", None))
#endif // QT_CONFIG(accessibility)
        self.note_label.setText(QCoreApplication.translate("SymptomDialog", u"&Note", None))
#if QT_CONFIG(accessibility)
        self.note.setAccessibleName(QCoreApplication.translate("SymptomDialog", u"Symptom note", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

