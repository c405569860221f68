# Generated from ui/treatment_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'treatment_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, QSize, Qt)
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

class Ui_TreatmentDialog(object):
    def setupUi(self, TreatmentDialog):
        if not TreatmentDialog.objectName():
            TreatmentDialog.setObjectName(u"TreatmentDialog")
        TreatmentDialog.resize(460, 270)
        self.main_layout = QVBoxLayout(TreatmentDialog)
        self.main_layout.setObjectName(u"main_layout")
        self.banner_layout = QHBoxLayout()
        self.banner_layout.setObjectName(u"banner_layout")
        self.banner = QLabel(TreatmentDialog)
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

        self.reload_button = QPushButton(TreatmentDialog)
        self.reload_button.setObjectName(u"reload_button")
        self.reload_button.setVisible(False)
        self.reload_button.setAutoDefault(False)

        self.banner_layout.addWidget(self.reload_button)


        self.main_layout.addLayout(self.banner_layout)

        self.fields_layout = QGridLayout()
        self.fields_layout.setObjectName(u"fields_layout")
        self.kind_label = QLabel(TreatmentDialog)
        self.kind_label.setObjectName(u"kind_label")

        self.fields_layout.addWidget(self.kind_label, 0, 0, 1, 1)

        self.kind = QComboBox(TreatmentDialog)
        self.kind.setObjectName(u"kind")

        self.fields_layout.addWidget(self.kind, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.kind_error = QLabel(TreatmentDialog)
        self.kind_error.setObjectName(u"kind_error")
        self.kind_error.setVisible(False)
        self.kind_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.kind_error.setTextFormat(Qt.TextFormat.PlainText)
        self.kind_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.kind_error, 1, 1, 1, 1)

        self.start_label = QLabel(TreatmentDialog)
        self.start_label.setObjectName(u"start_label")

        self.fields_layout.addWidget(self.start_label, 2, 0, 1, 1)

        self.start = QDateEdit(TreatmentDialog)
        self.start.setObjectName(u"start")
        self.start.setDisplayFormat(u"yyyy-MM-dd")
        self.start.setCalendarPopup(True)

        self.fields_layout.addWidget(self.start, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.start_error = QLabel(TreatmentDialog)
        self.start_error.setObjectName(u"start_error")
        self.start_error.setVisible(False)
        self.start_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.start_error.setTextFormat(Qt.TextFormat.PlainText)
        self.start_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.start_error, 3, 1, 1, 1)

        self.end_check = QCheckBox(TreatmentDialog)
        self.end_check.setObjectName(u"end_check")

        self.fields_layout.addWidget(self.end_check, 4, 0, 1, 1)

        self.end = QDateEdit(TreatmentDialog)
        self.end.setObjectName(u"end")
        self.end.setDisplayFormat(u"yyyy-MM-dd")
        self.end.setCalendarPopup(True)

        self.fields_layout.addWidget(self.end, 4, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.end_error = QLabel(TreatmentDialog)
        self.end_error.setObjectName(u"end_error")
        self.end_error.setVisible(False)
        self.end_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.end_error.setTextFormat(Qt.TextFormat.PlainText)
        self.end_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.end_error, 5, 1, 1, 1)

        self.detail_label = QLabel(TreatmentDialog)
        self.detail_label.setObjectName(u"detail_label")

        self.fields_layout.addWidget(self.detail_label, 6, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.detail = QPlainTextEdit(TreatmentDialog)
        self.detail.setObjectName(u"detail")
        self.detail.setMinimumSize(QSize(0, 56))
        self.detail.setTabChangesFocus(True)

        self.fields_layout.addWidget(self.detail, 6, 1, 1, 1)

        self.detail_error = QLabel(TreatmentDialog)
        self.detail_error.setObjectName(u"detail_error")
        self.detail_error.setVisible(False)
        self.detail_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.detail_error.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_error.setProperty(u"role", u"error")

        self.fields_layout.addWidget(self.detail_error, 7, 1, 1, 1)

        self.fields_layout.setColumnStretch(1, 1)

        self.main_layout.addLayout(self.fields_layout)

        self.button_box = QDialogButtonBox(TreatmentDialog)
        self.button_box.setObjectName(u"button_box")
        self.button_box.setStandardButtons(QDialogButtonBox.StandardButton.Cancel|QDialogButtonBox.StandardButton.Ok)

        self.main_layout.addWidget(self.button_box)

#if QT_CONFIG(shortcut)
        self.kind_label.setBuddy(self.kind)
        self.start_label.setBuddy(self.start)
        self.detail_label.setBuddy(self.detail)
#endif // QT_CONFIG(shortcut)
        QWidget.setTabOrder(self.kind, self.start)
        QWidget.setTabOrder(self.start, self.end_check)
        QWidget.setTabOrder(self.end_check, self.end)
        QWidget.setTabOrder(self.end, self.detail)
        QWidget.setTabOrder(self.detail, self.button_box)
        QWidget.setTabOrder(self.button_box, self.reload_button)

        self.retranslateUi(TreatmentDialog)
    # setupUi

    def retranslateUi(self, TreatmentDialog):
        TreatmentDialog.setWindowTitle(QCoreApplication.translate("TreatmentDialog", u"Treatment", None))
#if QT_CONFIG(tooltip)
        self.reload_button.setToolTip(QCoreApplication.translate("TreatmentDialog", u"Load the version saved by the other window or workstation (what you typed here is replaced)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.reload_button.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"Reload the saved record", None))
#endif // QT_CONFIG(accessibility)
        self.reload_button.setText(QCoreApplication.translate("TreatmentDialog", u"&Reload", None))
        self.kind_label.setText(QCoreApplication.translate("TreatmentDialog", u"&Treatment", None))
#if QT_CONFIG(accessibility)
        self.kind.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"Kind of treatment", None))
#endif // QT_CONFIG(accessibility)
        self.start_label.setText(QCoreApplication.translate("TreatmentDialog", u"&Start", None))
#if QT_CONFIG(accessibility)
        self.start.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"Start date", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.end_check.setToolTip(QCoreApplication.translate("TreatmentDialog", u"The day the treatment ended; leave unticked while it goes on", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.end_check.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"Treatment ended", None))
#endif // QT_CONFIG(accessibility)
        self.end_check.setText(QCoreApplication.translate("TreatmentDialog", u"&Ended on", None))
#if QT_CONFIG(accessibility)
        self.end.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"End date", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.detail_label.setToolTip(QCoreApplication.translate("TreatmentDialog", u"Drug, dose and schedule, e.g. zoledronate 5 mg IV once", None))
#endif // QT_CONFIG(tooltip)
        self.detail_label.setText(QCoreApplication.translate("TreatmentDialog", u"&Detail", None))
#if QT_CONFIG(tooltip)
        self.detail.setToolTip(QCoreApplication.translate("TreatmentDialog", u"Drug, dose and schedule, e.g. zoledronate 5 mg IV once", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.detail.setAccessibleName(QCoreApplication.translate("TreatmentDialog", u"Treatment detail", None))
#endif // QT_CONFIG(accessibility)
        self.detail.setPlaceholderText(QCoreApplication.translate("TreatmentDialog", u"dose, schedule", None))
    # retranslateUi

