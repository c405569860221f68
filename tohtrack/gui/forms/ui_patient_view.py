# Generated from ui/patient_view.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'patient_view.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, Qt)
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QSizePolicy, QSpacerItem, QSplitter, QTabWidget, QTableWidget, QVBoxLayout, QWidget)

from tohtrack.gui.flags_list import FlagsList

class Ui_PatientView(object):
    def setupUi(self, PatientView):
        if not PatientView.objectName():
            PatientView.setObjectName(u"PatientView")
        PatientView.resize(900, 700)
        self.view_layout = QVBoxLayout(PatientView)
        self.view_layout.setSpacing(6)
        self.view_layout.setObjectName(u"view_layout")
        self.view_layout.setContentsMargins(4, 0, 0, 0)
        self.header = QFrame(PatientView)
        self.header.setObjectName(u"header")
        self.header.setFrameShape(QFrame.Shape.StyledPanel)
        self.header_layout = QHBoxLayout(self.header)
        self.header_layout.setObjectName(u"header_layout")
        self.header_layout.setContentsMargins(-1, 6, -1, 6)
        self.header_text = QVBoxLayout()
        self.header_text.setSpacing(2)
        self.header_text.setObjectName(u"header_text")
        self.name_label = QLabel(self.header)
        self.name_label.setObjectName(u"name_label")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.header_text.addWidget(self.name_label)

        self.details_label = QLabel(self.header)
        self.details_label.setObjectName(u"details_label")
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.header_text.addWidget(self.details_label)


        self.header_layout.addLayout(self.header_text)

        self.header_spacer = QSpacerItem(20, 10, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        self.header_layout.addItem(self.header_spacer)

        self.pattern_label = QLabel(self.header)
        self.pattern_label.setObjectName(u"pattern_label")
        self.pattern_label.setAlignment(Qt.AlignmentFlag.AlignRight|Qt.AlignmentFlag.AlignVCenter)

        self.header_layout.addWidget(self.pattern_label)


        self.view_layout.addWidget(self.header)

        self.flags_list = FlagsList(PatientView)
        self.flags_list.setObjectName(u"flags_list")
        self.flags_list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.flags_list.setWordWrap(True)

        self.view_layout.addWidget(self.flags_list)

        self.view_splitter = QSplitter(PatientView)
        self.view_splitter.setObjectName(u"view_splitter")
        self.view_splitter.setOrientation(Qt.Orientation.Vertical)
        self.view_splitter.setChildrenCollapsible(False)
        self.episodes_box = QWidget(self.view_splitter)
        self.episodes_box.setObjectName(u"episodes_box")
        self.episodes_layout = QVBoxLayout(self.episodes_box)
        self.episodes_layout.setSpacing(2)
        self.episodes_layout.setObjectName(u"episodes_layout")
        self.episodes_layout.setContentsMargins(0, 0, 0, 0)
        self.episodes_title = QLabel(self.episodes_box)
        self.episodes_title.setObjectName(u"episodes_title")

        self.episodes_layout.addWidget(self.episodes_title)

        self.episodes_table = QTableWidget(self.episodes_box)
        self.episodes_table.setObjectName(u"episodes_table")
        self.episodes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.episodes_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.episodes_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.episodes_table.setAlternatingRowColors(True)
        self.episodes_table.horizontalHeader().setStretchLastSection(True)
        self.episodes_table.verticalHeader().setVisible(False)

        self.episodes_layout.addWidget(self.episodes_table)

        self.view_splitter.addWidget(self.episodes_box)
        self.timeline_area = QFrame(self.view_splitter)
        self.timeline_area.setObjectName(u"timeline_area")
        self.timeline_area.setFrameShape(QFrame.Shape.StyledPanel)
        self.timeline_layout = QVBoxLayout(self.timeline_area)
        self.timeline_layout.setObjectName(u"timeline_layout")
        self.timeline_layout.setContentsMargins(6, 6, 6, 6)
        self.course_label = QLabel(self.timeline_area)
        self.course_label.setObjectName(u"course_label")
        self.course_label.setWordWrap(True)
        self.course_label.setAlignment(Qt.AlignmentFlag.AlignLeading|Qt.AlignmentFlag.AlignTop)

        self.timeline_layout.addWidget(self.course_label)

        self.view_splitter.addWidget(self.timeline_area)
        self.findings_tabs = QTabWidget(self.view_splitter)
        self.findings_tabs.setObjectName(u"findings_tabs")
        self.imaging_tab = QWidget()
        self.imaging_tab.setObjectName(u"imaging_tab")
        self.imaging_layout = QVBoxLayout(self.imaging_tab)
        self.imaging_layout.setObjectName(u"imaging_layout")
        self.imaging_layout.setContentsMargins(0, 0, 0, 0)
        self.imaging_table = QTableWidget(self.imaging_tab)
        self.imaging_table.setObjectName(u"imaging_table")
        self.imaging_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.imaging_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.imaging_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.imaging_table.setAlternatingRowColors(True)
        self.imaging_table.horizontalHeader().setStretchLastSection(True)
        self.imaging_table.verticalHeader().setVisible(False)

        self.imaging_layout.addWidget(self.imaging_table)

        self.findings_tabs.addTab(self.imaging_tab, "")
        self.symptoms_tab = QWidget()
        self.symptoms_tab.setObjectName(u"symptoms_tab")
        self.symptoms_layout = QVBoxLayout(self.symptoms_tab)
        self.symptoms_layout.setObjectName(u"symptoms_layout")
        self.symptoms_layout.setContentsMargins(0, 0, 0, 0)
        self.symptoms_table = QTableWidget(self.symptoms_tab)
        self.symptoms_table.setObjectName(u"symptoms_table")
        self.symptoms_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.symptoms_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.symptoms_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.symptoms_table.setAlternatingRowColors(True)
        self.symptoms_table.horizontalHeader().setStretchLastSection(True)
        self.symptoms_table.verticalHeader().setVisible(False)

        self.symptoms_layout.addWidget(self.symptoms_table)

        self.findings_tabs.addTab(self.symptoms_tab, "")
        self.treatments_tab = QWidget()
        self.treatments_tab.setObjectName(u"treatments_tab")
        self.treatments_layout = QVBoxLayout(self.treatments_tab)
        self.treatments_layout.setObjectName(u"treatments_layout")
        self.treatments_layout.setContentsMargins(0, 0, 0, 0)
        self.treatments_table = QTableWidget(self.treatments_tab)
        self.treatments_table.setObjectName(u"treatments_table")
        self.treatments_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.treatments_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.treatments_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.treatments_table.setAlternatingRowColors(True)
        self.treatments_table.horizontalHeader().setStretchLastSection(True)
        self.treatments_table.verticalHeader().setVisible(False)

        self.treatments_layout.addWidget(self.treatments_table)

        self.findings_tabs.addTab(self.treatments_tab, "")
        self.view_splitter.addWidget(self.findings_tabs)

        self.view_layout.addWidget(self.view_splitter)

        QWidget.setTabOrder(self.flags_list, self.episodes_table)
        QWidget.setTabOrder(self.episodes_table, self.findings_tabs)
        QWidget.setTabOrder(self.findings_tabs, self.imaging_table)
        QWidget.setTabOrder(self.imaging_table, self.symptoms_table)
        QWidget.setTabOrder(self.symptoms_table, self.treatments_table)

        self.retranslateUi(PatientView)

        self.findings_tabs.setCurrentIndex(0)

    # setupUi

    def retranslateUi(self, PatientView):
        self.name_label.setText("")
        self.details_label.setText("")
        self.pattern_label.setText("")
#if QT_CONFIG(accessibility)
        self.flags_list.setAccessibleName(QCoreApplication.translate("PatientView", u"Flags", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.flags_list.setToolTip(QCoreApplication.translate("PatientView", u"Click a flag to select the episode or finding that raised it", None))
#endif // QT_CONFIG(tooltip)
        self.episodes_title.setText(QCoreApplication.translate("PatientView", u"Episodes", None))
#if QT_CONFIG(accessibility)
        self.episodes_table.setAccessibleName(QCoreApplication.translate("PatientView", u"Episodes", None))
#endif // QT_CONFIG(accessibility)
        self.course_label.setText("")
#if QT_CONFIG(accessibility)
        self.imaging_table.setAccessibleName(QCoreApplication.translate("PatientView", u"Imaging studies", None))
#endif // QT_CONFIG(accessibility)
        self.findings_tabs.setTabText(self.findings_tabs.indexOf(self.imaging_tab), QCoreApplication.translate("PatientView", u"Imaging", None))
#if QT_CONFIG(accessibility)
        self.symptoms_table.setAccessibleName(QCoreApplication.translate("PatientView", u"Symptom records", None))
#endif // QT_CONFIG(accessibility)
        self.findings_tabs.setTabText(self.findings_tabs.indexOf(self.symptoms_tab), QCoreApplication.translate("PatientView", u"Symptoms", None))
#if QT_CONFIG(accessibility)
        self.treatments_table.setAccessibleName(QCoreApplication.translate("PatientView", u"Treatments", None))
#endif // QT_CONFIG(accessibility)
        self.findings_tabs.setTabText(self.findings_tabs.indexOf(self.treatments_tab), QCoreApplication.translate("PatientView", u"Treatments", None))
        pass
    # retranslateUi

