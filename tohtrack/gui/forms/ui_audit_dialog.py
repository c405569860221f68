# Generated from ui/audit_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'audit_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication)
from PySide6.QtWidgets import (QAbstractItemView, QDialogButtonBox, QLabel, QLineEdit, QTableWidget, QVBoxLayout, QWidget)

class Ui_AuditDialog(object):
    def setupUi(self, AuditDialog):
        if not AuditDialog.objectName():
            AuditDialog.setObjectName(u"AuditDialog")
        AuditDialog.resize(1000, 560)
        self.layout = QVBoxLayout(AuditDialog)
        self.layout.setObjectName(u"layout")
        self.summary_label = QLabel(AuditDialog)
        self.summary_label.setObjectName(u"summary_label")
        self.summary_label.setWordWrap(True)

        self.layout.addWidget(self.summary_label)

        self.filter_edit = QLineEdit(AuditDialog)
        self.filter_edit.setObjectName(u"filter_edit")
        self.filter_edit.setClearButtonEnabled(True)

        self.layout.addWidget(self.filter_edit)

        self.entries_table = QTableWidget(AuditDialog)
        self.entries_table.setObjectName(u"entries_table")
        self.entries_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.entries_table.setAlternatingRowColors(True)
        self.entries_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.entries_table.setWordWrap(False)
        self.entries_table.horizontalHeader().setStretchLastSection(True)
        self.entries_table.verticalHeader().setVisible(False)

        self.layout.addWidget(self.entries_table)

        self.buttons = QDialogButtonBox(AuditDialog)
        self.buttons.setObjectName(u"buttons")
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

        self.layout.addWidget(self.buttons)

        QWidget.setTabOrder(self.filter_edit, self.entries_table)

        self.retranslateUi(AuditDialog)
    # setupUi

    def retranslateUi(self, AuditDialog):
        AuditDialog.setWindowTitle(QCoreApplication.translate("AuditDialog", u"Audit history", None))
        self.summary_label.setText("")
        self.filter_edit.setPlaceholderText(QCoreApplication.translate("AuditDialog", u"Filter by field, value or person", None))
#if QT_CONFIG(accessibility)
        self.filter_edit.setAccessibleName(QCoreApplication.translate("AuditDialog", u"Filter the audit history", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(accessibility)
        self.entries_table.setAccessibleName(QCoreApplication.translate("AuditDialog", u"Audit entries", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

