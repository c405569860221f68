# Generated from ui/imaging_dialog.ui by scripts/build_forms.py (pyside6-uic): do not edit by hand.
# -*- coding: utf-8 -*-

################################################################################
## Form generated from reading UI file 'imaging_dialog.ui'
##
##
## WARNING! All changes made in this file will be lost when recompiling UI file!
################################################################################

from PySide6.QtCore import (QCoreApplication, QSize, Qt)
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialogButtonBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSizePolicy, QSpacerItem, QTimeEdit, QVBoxLayout, QWidget)

class Ui_ImagingDialog(object):
    def setupUi(self, ImagingDialog):
        if not ImagingDialog.objectName():
            ImagingDialog.setObjectName(u"ImagingDialog")
        ImagingDialog.resize(800, 560)
        self.main_layout = QVBoxLayout(ImagingDialog)
        self.main_layout.setObjectName(u"main_layout")
        self.banner_layout = QHBoxLayout()
        self.banner_layout.setObjectName(u"banner_layout")
        self.banner = QLabel(ImagingDialog)
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

        self.reload_button = QPushButton(ImagingDialog)
        self.reload_button.setObjectName(u"reload_button")
        self.reload_button.setVisible(False)
        self.reload_button.setAutoDefault(False)

        self.banner_layout.addWidget(self.reload_button)


        self.main_layout.addLayout(self.banner_layout)

        self.columns_layout = QHBoxLayout()
        self.columns_layout.setObjectName(u"columns_layout")
        self.left_layout = QVBoxLayout()
        self.left_layout.setObjectName(u"left_layout")
        self.study_group = QGroupBox(ImagingDialog)
        self.study_group.setObjectName(u"study_group")
        self.study_group_layout = QGridLayout(self.study_group)
        self.study_group_layout.setObjectName(u"study_group_layout")
        self.date_label = QLabel(self.study_group)
        self.date_label.setObjectName(u"date_label")

        self.study_group_layout.addWidget(self.date_label, 0, 0, 1, 1)

        self.date = QDateEdit(self.study_group)
        self.date.setObjectName(u"date")
        self.date.setDisplayFormat(u"yyyy-MM-dd")
        self.date.setCalendarPopup(True)

        self.study_group_layout.addWidget(self.date, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.date_error = QLabel(self.study_group)
        self.date_error.setObjectName(u"date_error")
        self.date_error.setVisible(False)
        self.date_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.date_error.setTextFormat(Qt.TextFormat.PlainText)
        self.date_error.setProperty(u"role", u"error")

        self.study_group_layout.addWidget(self.date_error, 1, 1, 1, 1)

        self.time_check = QCheckBox(self.study_group)
        self.time_check.setObjectName(u"time_check")

        self.study_group_layout.addWidget(self.time_check, 2, 0, 1, 1)

        self.time = QTimeEdit(self.study_group)
        self.time.setObjectName(u"time")
        self.time.setDisplayFormat(u"HH:mm")

        self.study_group_layout.addWidget(self.time, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.time_error = QLabel(self.study_group)
        self.time_error.setObjectName(u"time_error")
        self.time_error.setVisible(False)
        self.time_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.time_error.setTextFormat(Qt.TextFormat.PlainText)
        self.time_error.setProperty(u"role", u"error")

        self.study_group_layout.addWidget(self.time_error, 3, 1, 1, 1)

        self.modality_label = QLabel(self.study_group)
        self.modality_label.setObjectName(u"modality_label")

        self.study_group_layout.addWidget(self.modality_label, 4, 0, 1, 1)

        self.modality = QComboBox(self.study_group)
        self.modality.setObjectName(u"modality")

        self.study_group_layout.addWidget(self.modality, 4, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.modality_error = QLabel(self.study_group)
        self.modality_error.setObjectName(u"modality_error")
        self.modality_error.setVisible(False)
        self.modality_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.modality_error.setTextFormat(Qt.TextFormat.PlainText)
        self.modality_error.setProperty(u"role", u"error")

        self.study_group_layout.addWidget(self.modality_error, 5, 1, 1, 1)

        self.accession_label = QLabel(self.study_group)
        self.accession_label.setObjectName(u"accession_label")

        self.study_group_layout.addWidget(self.accession_label, 6, 0, 1, 1)

        self.accession = QLineEdit(self.study_group)
        self.accession.setObjectName(u"accession")
        self.accession.setMaxLength(200)

        self.study_group_layout.addWidget(self.accession, 6, 1, 1, 1)

        self.accession_error = QLabel(self.study_group)
        self.accession_error.setObjectName(u"accession_error")
        self.accession_error.setVisible(False)
        self.accession_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.accession_error.setTextFormat(Qt.TextFormat.PlainText)
        self.accession_error.setProperty(u"role", u"error")

        self.study_group_layout.addWidget(self.accession_error, 7, 1, 1, 1)

        self.study_group_layout.setColumnStretch(1, 1)

        self.left_layout.addWidget(self.study_group)

        self.edema_group = QGroupBox(ImagingDialog)
        self.edema_group.setObjectName(u"edema_group")
        self.edema_group_layout = QGridLayout(self.edema_group)
        self.edema_group_layout.setObjectName(u"edema_group_layout")
        self.edema_extent_pct_label = QLabel(self.edema_group)
        self.edema_extent_pct_label.setObjectName(u"edema_extent_pct_label")

        self.edema_group_layout.addWidget(self.edema_extent_pct_label, 0, 0, 1, 1)

        self.edema_extent_pct = QLineEdit(self.edema_group)
        self.edema_extent_pct.setObjectName(u"edema_extent_pct")
        self.edema_extent_pct.setMaxLength(12)

        self.edema_group_layout.addWidget(self.edema_extent_pct, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.edema_extent_pct_error = QLabel(self.edema_group)
        self.edema_extent_pct_error.setObjectName(u"edema_extent_pct_error")
        self.edema_extent_pct_error.setVisible(False)
        self.edema_extent_pct_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.edema_extent_pct_error.setTextFormat(Qt.TextFormat.PlainText)
        self.edema_extent_pct_error.setProperty(u"role", u"error")

        self.edema_group_layout.addWidget(self.edema_extent_pct_error, 1, 1, 1, 1)

        self.edema_volume_ml_label = QLabel(self.edema_group)
        self.edema_volume_ml_label.setObjectName(u"edema_volume_ml_label")

        self.edema_group_layout.addWidget(self.edema_volume_ml_label, 2, 0, 1, 1)

        self.edema_volume_ml = QLineEdit(self.edema_group)
        self.edema_volume_ml.setObjectName(u"edema_volume_ml")
        self.edema_volume_ml.setMaxLength(12)

        self.edema_group_layout.addWidget(self.edema_volume_ml, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.edema_volume_ml_error = QLabel(self.edema_group)
        self.edema_volume_ml_error.setObjectName(u"edema_volume_ml_error")
        self.edema_volume_ml_error.setVisible(False)
        self.edema_volume_ml_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.edema_volume_ml_error.setTextFormat(Qt.TextFormat.PlainText)
        self.edema_volume_ml_error.setProperty(u"role", u"error")

        self.edema_group_layout.addWidget(self.edema_volume_ml_error, 3, 1, 1, 1)

        self.edema_regions_label = QLabel(self.edema_group)
        self.edema_regions_label.setObjectName(u"edema_regions_label")

        self.edema_group_layout.addWidget(self.edema_regions_label, 4, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.edema_regions = QWidget(self.edema_group)
        self.edema_regions.setObjectName(u"edema_regions")
        self.edema_regions_layout = QGridLayout(self.edema_regions)
        self.edema_regions_layout.setObjectName(u"edema_regions_layout")
        self.edema_regions_layout.setContentsMargins(0, 0, 0, 0)

        self.edema_group_layout.addWidget(self.edema_regions, 4, 1, 1, 1)

        self.edema_regions_error = QLabel(self.edema_group)
        self.edema_regions_error.setObjectName(u"edema_regions_error")
        self.edema_regions_error.setVisible(False)
        self.edema_regions_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.edema_regions_error.setTextFormat(Qt.TextFormat.PlainText)
        self.edema_regions_error.setProperty(u"role", u"error")

        self.edema_group_layout.addWidget(self.edema_regions_error, 5, 1, 1, 1)

        self.edema_group_layout.setColumnStretch(1, 1)

        self.left_layout.addWidget(self.edema_group)

        self.left_spacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.left_layout.addItem(self.left_spacer)


        self.columns_layout.addLayout(self.left_layout)

        self.right_layout = QVBoxLayout()
        self.right_layout.setObjectName(u"right_layout")
        self.findings_group = QGroupBox(ImagingDialog)
        self.findings_group.setObjectName(u"findings_group")
        self.findings_group_layout = QGridLayout(self.findings_group)
        self.findings_group_layout.setObjectName(u"findings_group_layout")
        self.t1_low_signal_label = QLabel(self.findings_group)
        self.t1_low_signal_label.setObjectName(u"t1_low_signal_label")

        self.findings_group_layout.addWidget(self.t1_low_signal_label, 0, 0, 1, 1)

        self.t1_low_signal = QComboBox(self.findings_group)
        self.t1_low_signal.setObjectName(u"t1_low_signal")

        self.findings_group_layout.addWidget(self.t1_low_signal, 0, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.t1_low_signal_error = QLabel(self.findings_group)
        self.t1_low_signal_error.setObjectName(u"t1_low_signal_error")
        self.t1_low_signal_error.setVisible(False)
        self.t1_low_signal_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.t1_low_signal_error.setTextFormat(Qt.TextFormat.PlainText)
        self.t1_low_signal_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.t1_low_signal_error, 1, 1, 1, 1)

        self.t2_high_signal_label = QLabel(self.findings_group)
        self.t2_high_signal_label.setObjectName(u"t2_high_signal_label")

        self.findings_group_layout.addWidget(self.t2_high_signal_label, 2, 0, 1, 1)

        self.t2_high_signal = QComboBox(self.findings_group)
        self.t2_high_signal.setObjectName(u"t2_high_signal")

        self.findings_group_layout.addWidget(self.t2_high_signal, 2, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.t2_high_signal_error = QLabel(self.findings_group)
        self.t2_high_signal_error.setObjectName(u"t2_high_signal_error")
        self.t2_high_signal_error.setVisible(False)
        self.t2_high_signal_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.t2_high_signal_error.setTextFormat(Qt.TextFormat.PlainText)
        self.t2_high_signal_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.t2_high_signal_error, 3, 1, 1, 1)

        self.subchondral_fracture_line_label = QLabel(self.findings_group)
        self.subchondral_fracture_line_label.setObjectName(u"subchondral_fracture_line_label")

        self.findings_group_layout.addWidget(self.subchondral_fracture_line_label, 4, 0, 1, 1)

        self.subchondral_fracture_line = QComboBox(self.findings_group)
        self.subchondral_fracture_line.setObjectName(u"subchondral_fracture_line")

        self.findings_group_layout.addWidget(self.subchondral_fracture_line, 4, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.subchondral_fracture_line_error = QLabel(self.findings_group)
        self.subchondral_fracture_line_error.setObjectName(u"subchondral_fracture_line_error")
        self.subchondral_fracture_line_error.setVisible(False)
        self.subchondral_fracture_line_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.subchondral_fracture_line_error.setTextFormat(Qt.TextFormat.PlainText)
        self.subchondral_fracture_line_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.subchondral_fracture_line_error, 5, 1, 1, 1)

        self.subchondral_t2_low_band_label = QLabel(self.findings_group)
        self.subchondral_t2_low_band_label.setObjectName(u"subchondral_t2_low_band_label")

        self.findings_group_layout.addWidget(self.subchondral_t2_low_band_label, 6, 0, 1, 1)

        self.subchondral_t2_low_band = QComboBox(self.findings_group)
        self.subchondral_t2_low_band.setObjectName(u"subchondral_t2_low_band")

        self.findings_group_layout.addWidget(self.subchondral_t2_low_band, 6, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.subchondral_t2_low_band_error = QLabel(self.findings_group)
        self.subchondral_t2_low_band_error.setObjectName(u"subchondral_t2_low_band_error")
        self.subchondral_t2_low_band_error.setVisible(False)
        self.subchondral_t2_low_band_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.subchondral_t2_low_band_error.setTextFormat(Qt.TextFormat.PlainText)
        self.subchondral_t2_low_band_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.subchondral_t2_low_band_error, 7, 1, 1, 1)

        self.collapse_label = QLabel(self.findings_group)
        self.collapse_label.setObjectName(u"collapse_label")

        self.findings_group_layout.addWidget(self.collapse_label, 8, 0, 1, 1)

        self.collapse = QComboBox(self.findings_group)
        self.collapse.setObjectName(u"collapse")

        self.findings_group_layout.addWidget(self.collapse, 8, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.collapse_error = QLabel(self.findings_group)
        self.collapse_error.setObjectName(u"collapse_error")
        self.collapse_error.setVisible(False)
        self.collapse_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.collapse_error.setTextFormat(Qt.TextFormat.PlainText)
        self.collapse_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.collapse_error, 9, 1, 1, 1)

        self.medial_head_sparing_label = QLabel(self.findings_group)
        self.medial_head_sparing_label.setObjectName(u"medial_head_sparing_label")

        self.findings_group_layout.addWidget(self.medial_head_sparing_label, 10, 0, 1, 1)

        self.medial_head_sparing = QComboBox(self.findings_group)
        self.medial_head_sparing.setObjectName(u"medial_head_sparing")

        self.findings_group_layout.addWidget(self.medial_head_sparing, 10, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.medial_head_sparing_error = QLabel(self.findings_group)
        self.medial_head_sparing_error.setObjectName(u"medial_head_sparing_error")
        self.medial_head_sparing_error.setVisible(False)
        self.medial_head_sparing_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.medial_head_sparing_error.setTextFormat(Qt.TextFormat.PlainText)
        self.medial_head_sparing_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.medial_head_sparing_error, 11, 1, 1, 1)

        self.joint_effusion_label = QLabel(self.findings_group)
        self.joint_effusion_label.setObjectName(u"joint_effusion_label")

        self.findings_group_layout.addWidget(self.joint_effusion_label, 12, 0, 1, 1)

        self.joint_effusion = QComboBox(self.findings_group)
        self.joint_effusion.setObjectName(u"joint_effusion")

        self.findings_group_layout.addWidget(self.joint_effusion, 12, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.joint_effusion_error = QLabel(self.findings_group)
        self.joint_effusion_error.setObjectName(u"joint_effusion_error")
        self.joint_effusion_error.setVisible(False)
        self.joint_effusion_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.joint_effusion_error.setTextFormat(Qt.TextFormat.PlainText)
        self.joint_effusion_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.joint_effusion_error, 13, 1, 1, 1)

        self.dce_enhancement_label = QLabel(self.findings_group)
        self.dce_enhancement_label.setObjectName(u"dce_enhancement_label")

        self.findings_group_layout.addWidget(self.dce_enhancement_label, 14, 0, 1, 1)

        self.dce_enhancement = QComboBox(self.findings_group)
        self.dce_enhancement.setObjectName(u"dce_enhancement")

        self.findings_group_layout.addWidget(self.dce_enhancement, 14, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.dce_enhancement_error = QLabel(self.findings_group)
        self.dce_enhancement_error.setObjectName(u"dce_enhancement_error")
        self.dce_enhancement_error.setVisible(False)
        self.dce_enhancement_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.dce_enhancement_error.setTextFormat(Qt.TextFormat.PlainText)
        self.dce_enhancement_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.dce_enhancement_error, 15, 1, 1, 1)

        self.osteopenia_label = QLabel(self.findings_group)
        self.osteopenia_label.setObjectName(u"osteopenia_label")

        self.findings_group_layout.addWidget(self.osteopenia_label, 16, 0, 1, 1)

        self.osteopenia = QComboBox(self.findings_group)
        self.osteopenia.setObjectName(u"osteopenia")

        self.findings_group_layout.addWidget(self.osteopenia, 16, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.osteopenia_error = QLabel(self.findings_group)
        self.osteopenia_error.setObjectName(u"osteopenia_error")
        self.osteopenia_error.setVisible(False)
        self.osteopenia_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.osteopenia_error.setTextFormat(Qt.TextFormat.PlainText)
        self.osteopenia_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.osteopenia_error, 17, 1, 1, 1)

        self.subchondral_cortical_loss_label = QLabel(self.findings_group)
        self.subchondral_cortical_loss_label.setObjectName(u"subchondral_cortical_loss_label")

        self.findings_group_layout.addWidget(self.subchondral_cortical_loss_label, 18, 0, 1, 1)

        self.subchondral_cortical_loss = QComboBox(self.findings_group)
        self.subchondral_cortical_loss.setObjectName(u"subchondral_cortical_loss")

        self.findings_group_layout.addWidget(self.subchondral_cortical_loss, 18, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.subchondral_cortical_loss_error = QLabel(self.findings_group)
        self.subchondral_cortical_loss_error.setObjectName(u"subchondral_cortical_loss_error")
        self.subchondral_cortical_loss_error.setVisible(False)
        self.subchondral_cortical_loss_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.subchondral_cortical_loss_error.setTextFormat(Qt.TextFormat.PlainText)
        self.subchondral_cortical_loss_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.subchondral_cortical_loss_error, 19, 1, 1, 1)

        self.joint_space_narrowed_label = QLabel(self.findings_group)
        self.joint_space_narrowed_label.setObjectName(u"joint_space_narrowed_label")

        self.findings_group_layout.addWidget(self.joint_space_narrowed_label, 20, 0, 1, 1)

        self.joint_space_narrowed = QComboBox(self.findings_group)
        self.joint_space_narrowed.setObjectName(u"joint_space_narrowed")

        self.findings_group_layout.addWidget(self.joint_space_narrowed, 20, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.joint_space_narrowed_error = QLabel(self.findings_group)
        self.joint_space_narrowed_error.setObjectName(u"joint_space_narrowed_error")
        self.joint_space_narrowed_error.setVisible(False)
        self.joint_space_narrowed_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.joint_space_narrowed_error.setTextFormat(Qt.TextFormat.PlainText)
        self.joint_space_narrowed_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.joint_space_narrowed_error, 21, 1, 1, 1)

        self.scintigraphy_uptake_label = QLabel(self.findings_group)
        self.scintigraphy_uptake_label.setObjectName(u"scintigraphy_uptake_label")

        self.findings_group_layout.addWidget(self.scintigraphy_uptake_label, 22, 0, 1, 1)

        self.scintigraphy_uptake = QComboBox(self.findings_group)
        self.scintigraphy_uptake.setObjectName(u"scintigraphy_uptake")

        self.findings_group_layout.addWidget(self.scintigraphy_uptake, 22, 1, 1, 1, Qt.AlignmentFlag.AlignLeft)

        self.scintigraphy_uptake_error = QLabel(self.findings_group)
        self.scintigraphy_uptake_error.setObjectName(u"scintigraphy_uptake_error")
        self.scintigraphy_uptake_error.setVisible(False)
        self.scintigraphy_uptake_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.scintigraphy_uptake_error.setTextFormat(Qt.TextFormat.PlainText)
        self.scintigraphy_uptake_error.setProperty(u"role", u"error")

        self.findings_group_layout.addWidget(self.scintigraphy_uptake_error, 23, 1, 1, 1)

        self.findings_group_layout.setColumnStretch(1, 1)

        self.right_layout.addWidget(self.findings_group)

        self.right_spacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.right_layout.addItem(self.right_spacer)


        self.columns_layout.addLayout(self.right_layout)

        self.columns_layout.setStretch(0, 1)
        self.columns_layout.setStretch(1, 1)

        self.main_layout.addLayout(self.columns_layout)

        self.report_layout = QGridLayout()
        self.report_layout.setObjectName(u"report_layout")
        self.report_label = QLabel(ImagingDialog)
        self.report_label.setObjectName(u"report_label")

        self.report_layout.addWidget(self.report_label, 0, 0, 1, 1, Qt.AlignmentFlag.AlignLeft|Qt.AlignmentFlag.AlignTop)

        self.report = QPlainTextEdit(ImagingDialog)
        self.report.setObjectName(u"report")
        self.report.setMinimumSize(QSize(0, 72))
        self.report.setTabChangesFocus(True)

        self.report_layout.addWidget(self.report, 0, 1, 1, 1)

        self.report_error = QLabel(ImagingDialog)
        self.report_error.setObjectName(u"report_error")
        self.report_error.setVisible(False)
        self.report_error.setStyleSheet(u"QLabel { color: #c62828; }\n"
"QLabel[pending=\"true\"] { color: #6e6e6e; }")
        self.report_error.setTextFormat(Qt.TextFormat.PlainText)
        self.report_error.setProperty(u"role", u"error")

        self.report_layout.addWidget(self.report_error, 1, 1, 1, 1)

        self.report_layout.setColumnStretch(1, 1)

        self.main_layout.addLayout(self.report_layout)

        self.button_box = QDialogButtonBox(ImagingDialog)
        self.button_box.setObjectName(u"button_box")
        self.button_box.setStandardButtons(QDialogButtonBox.StandardButton.Cancel|QDialogButtonBox.StandardButton.Ok)

        self.main_layout.addWidget(self.button_box)

        self.main_layout.setStretch(2, 1)
#if QT_CONFIG(shortcut)
        self.date_label.setBuddy(self.date)
        self.modality_label.setBuddy(self.modality)
        self.accession_label.setBuddy(self.accession)
        self.edema_extent_pct_label.setBuddy(self.edema_extent_pct)
        self.edema_volume_ml_label.setBuddy(self.edema_volume_ml)
        self.t1_low_signal_label.setBuddy(self.t1_low_signal)
        self.t2_high_signal_label.setBuddy(self.t2_high_signal)
        self.subchondral_fracture_line_label.setBuddy(self.subchondral_fracture_line)
        self.subchondral_t2_low_band_label.setBuddy(self.subchondral_t2_low_band)
        self.collapse_label.setBuddy(self.collapse)
        self.medial_head_sparing_label.setBuddy(self.medial_head_sparing)
        self.joint_effusion_label.setBuddy(self.joint_effusion)
        self.dce_enhancement_label.setBuddy(self.dce_enhancement)
        self.osteopenia_label.setBuddy(self.osteopenia)
        self.subchondral_cortical_loss_label.setBuddy(self.subchondral_cortical_loss)
        self.joint_space_narrowed_label.setBuddy(self.joint_space_narrowed)
        self.scintigraphy_uptake_label.setBuddy(self.scintigraphy_uptake)
        self.report_label.setBuddy(self.report)
#endif // QT_CONFIG(shortcut)
        QWidget.setTabOrder(self.date, self.time_check)
        QWidget.setTabOrder(self.time_check, self.time)
        QWidget.setTabOrder(self.time, self.modality)
        QWidget.setTabOrder(self.modality, self.accession)
        QWidget.setTabOrder(self.accession, self.edema_extent_pct)
        QWidget.setTabOrder(self.edema_extent_pct, self.edema_volume_ml)
        QWidget.setTabOrder(self.edema_volume_ml, self.t1_low_signal)
        QWidget.setTabOrder(self.t1_low_signal, self.t2_high_signal)
        QWidget.setTabOrder(self.t2_high_signal, self.subchondral_fracture_line)
        QWidget.setTabOrder(self.subchondral_fracture_line, self.subchondral_t2_low_band)
        QWidget.setTabOrder(self.subchondral_t2_low_band, self.collapse)
        QWidget.setTabOrder(self.collapse, self.medial_head_sparing)
        QWidget.setTabOrder(self.medial_head_sparing, self.joint_effusion)
        QWidget.setTabOrder(self.joint_effusion, self.dce_enhancement)
        QWidget.setTabOrder(self.dce_enhancement, self.osteopenia)
        QWidget.setTabOrder(self.osteopenia, self.subchondral_cortical_loss)
        QWidget.setTabOrder(self.subchondral_cortical_loss, self.joint_space_narrowed)
        QWidget.setTabOrder(self.joint_space_narrowed, self.scintigraphy_uptake)
        QWidget.setTabOrder(self.scintigraphy_uptake, self.report)
        QWidget.setTabOrder(self.report, self.button_box)
        QWidget.setTabOrder(self.button_box, self.reload_button)

        self.retranslateUi(ImagingDialog)
    # setupUi

    def retranslateUi(self, ImagingDialog):
        ImagingDialog.setWindowTitle(QCoreApplication.translate("ImagingDialog", u"Imaging study", None))
#if QT_CONFIG(tooltip)
        self.reload_button.setToolTip(QCoreApplication.translate("ImagingDialog", u"Load the version saved by the other window or workstation (what you typed here is replaced)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.reload_button.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Reload the saved record", None))
#endif // QT_CONFIG(accessibility)
        self.reload_button.setText(QCoreApplication.translate("ImagingDialog", u"&Reload", None))
        self.study_group.setTitle(QCoreApplication.translate("ImagingDialog", u"Study", None))
        self.date_label.setText(QCoreApplication.translate("ImagingDialog", u"&Date", None))
#if QT_CONFIG(accessibility)
        self.date.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Date of the study", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.time_check.setToolTip(QCoreApplication.translate("ImagingDialog", u"The clock time of the study, if known (orders studies of one day)", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.time_check.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Time recorded", None))
#endif // QT_CONFIG(accessibility)
        self.time_check.setText(QCoreApplication.translate("ImagingDialog", u"&Time", None))
#if QT_CONFIG(accessibility)
        self.time.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Time of the study", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.modality_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"MRI is the modality of choice", None))
#endif // QT_CONFIG(tooltip)
        self.modality_label.setText(QCoreApplication.translate("ImagingDialog", u"&Modality", None))
#if QT_CONFIG(tooltip)
        self.modality.setToolTip(QCoreApplication.translate("ImagingDialog", u"MRI is the modality of choice", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.modality.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Modality", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.accession_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"The radiology accession number of the study", None))
#endif // QT_CONFIG(tooltip)
        self.accession_label.setText(QCoreApplication.translate("ImagingDialog", u"&Accession number", None))
#if QT_CONFIG(tooltip)
        self.accession.setToolTip(QCoreApplication.translate("ImagingDialog", u"The radiology accession number of the study", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.accession.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Accession number", None))
#endif // QT_CONFIG(accessibility)
        self.edema_group.setTitle(QCoreApplication.translate("ImagingDialog", u"Edema extent", None))
#if QT_CONFIG(tooltip)
        self.edema_extent_pct_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Share of the affected bone end (for the hip: femoral head and neck) with edema, 0\u2013100%, as reported", None))
#endif // QT_CONFIG(tooltip)
        self.edema_extent_pct_label.setText(QCoreApplication.translate("ImagingDialog", u"E&xtent (%)", None))
#if QT_CONFIG(tooltip)
        self.edema_extent_pct.setToolTip(QCoreApplication.translate("ImagingDialog", u"Share of the affected bone end (for the hip: femoral head and neck) with edema, 0\u2013100%, as reported", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.edema_extent_pct.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Edema extent, percent", None))
#endif // QT_CONFIG(accessibility)
        self.edema_extent_pct.setPlaceholderText(QCoreApplication.translate("ImagingDialog", u"not recorded", None))
#if QT_CONFIG(tooltip)
        self.edema_volume_ml_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Edema volume in millilitres, if the radiologist measured it", None))
#endif // QT_CONFIG(tooltip)
        self.edema_volume_ml_label.setText(QCoreApplication.translate("ImagingDialog", u"&Volume (mL)", None))
#if QT_CONFIG(tooltip)
        self.edema_volume_ml.setToolTip(QCoreApplication.translate("ImagingDialog", u"Edema volume in millilitres, if the radiologist measured it", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.edema_volume_ml.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Edema volume, millilitres", None))
#endif // QT_CONFIG(accessibility)
        self.edema_volume_ml.setPlaceholderText(QCoreApplication.translate("ImagingDialog", u"not recorded", None))
#if QT_CONFIG(tooltip)
        self.edema_regions_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"The regions with bone marrow edema", None))
#endif // QT_CONFIG(tooltip)
        self.edema_regions_label.setText(QCoreApplication.translate("ImagingDialog", u"Re&gions", None))
#if QT_CONFIG(tooltip)
        self.edema_regions.setToolTip(QCoreApplication.translate("ImagingDialog", u"The regions with bone marrow edema", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.edema_regions.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Edema regions", None))
#endif // QT_CONFIG(accessibility)
        self.findings_group.setTitle(QCoreApplication.translate("ImagingDialog", u"Findings", None))
#if QT_CONFIG(tooltip)
        self.t1_low_signal_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Loss of the normal fatty marrow signal on T1 \u2014 the bone marrow edema pattern of TOH", None))
#endif // QT_CONFIG(tooltip)
        self.t1_low_signal_label.setText(QCoreApplication.translate("ImagingDialog", u"T&1 low signal", None))
#if QT_CONFIG(tooltip)
        self.t1_low_signal.setToolTip(QCoreApplication.translate("ImagingDialog", u"Loss of the normal fatty marrow signal on T1 \u2014 the bone marrow edema pattern of TOH", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.t1_low_signal.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"T1 low signal", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.t2_high_signal_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"High signal on T2 or STIR, often patchy \u2014 bone marrow edema", None))
#endif // QT_CONFIG(tooltip)
        self.t2_high_signal_label.setText(QCoreApplication.translate("ImagingDialog", u"T&2 high signal", None))
#if QT_CONFIG(tooltip)
        self.t2_high_signal.setToolTip(QCoreApplication.translate("ImagingDialog", u"High signal on T2 or STIR, often patchy \u2014 bone marrow edema", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.t2_high_signal.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"T2 high signal", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.subchondral_fracture_line_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"A thin line under the joint surface \u2014 seen in almost half of TOH cases; a reason to review, not a diagnosis of AVN", None))
#endif // QT_CONFIG(tooltip)
        self.subchondral_fracture_line_label.setText(QCoreApplication.translate("ImagingDialog", u"Subchondral &fracture line", None))
#if QT_CONFIG(tooltip)
        self.subchondral_fracture_line.setToolTip(QCoreApplication.translate("ImagingDialog", u"A thin line under the joint surface \u2014 seen in almost half of TOH cases; a reason to review, not a diagnosis of AVN", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.subchondral_fracture_line.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Subchondral fracture line", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.subchondral_t2_low_band_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"A low-signal band under the joint surface on T2 \u2014 points to avascular necrosis", None))
#endif // QT_CONFIG(tooltip)
        self.subchondral_t2_low_band_label.setText(QCoreApplication.translate("ImagingDialog", u"Subchondral T2 lo&w band", None))
#if QT_CONFIG(tooltip)
        self.subchondral_t2_low_band.setToolTip(QCoreApplication.translate("ImagingDialog", u"A low-signal band under the joint surface on T2 \u2014 points to avascular necrosis", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.subchondral_t2_low_band.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Subchondral T2 low band", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.collapse_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Flattening or collapse of the joint surface \u2014 points to avascular necrosis or a fracture", None))
#endif // QT_CONFIG(tooltip)
        self.collapse_label.setText(QCoreApplication.translate("ImagingDialog", u"&Collapse", None))
#if QT_CONFIG(tooltip)
        self.collapse.setToolTip(QCoreApplication.translate("ImagingDialog", u"Flattening or collapse of the joint surface \u2014 points to avascular necrosis or a fracture", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.collapse.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Collapse", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.medial_head_sparing_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"The medial femoral head is spared by the edema \u2014 seen in about 90% of TOH, fading later", None))
#endif // QT_CONFIG(tooltip)
        self.medial_head_sparing_label.setText(QCoreApplication.translate("ImagingDialog", u"Medial head spar&ing", None))
#if QT_CONFIG(tooltip)
        self.medial_head_sparing.setToolTip(QCoreApplication.translate("ImagingDialog", u"The medial femoral head is spared by the edema \u2014 seen in about 90% of TOH, fading later", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.medial_head_sparing.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Medial head sparing", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.joint_effusion_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Fluid in the joint \u2014 common in TOH", None))
#endif // QT_CONFIG(tooltip)
        self.joint_effusion_label.setText(QCoreApplication.translate("ImagingDialog", u"Joint &effusion", None))
#if QT_CONFIG(tooltip)
        self.joint_effusion.setToolTip(QCoreApplication.translate("ImagingDialog", u"Fluid in the joint \u2014 common in TOH", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.joint_effusion.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Joint effusion", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.dce_enhancement_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Dynamic contrast MRI: early enhancement (hyperaemia) fits TOH; no enhancement suggests early AVN", None))
#endif // QT_CONFIG(tooltip)
        self.dce_enhancement_label.setText(QCoreApplication.translate("ImagingDialog", u"Contrast en&hancement (DCE)", None))
#if QT_CONFIG(tooltip)
        self.dce_enhancement.setToolTip(QCoreApplication.translate("ImagingDialog", u"Dynamic contrast MRI: early enhancement (hyperaemia) fits TOH; no enhancement suggests early AVN", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.dce_enhancement.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Dynamic contrast enhancement", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.osteopenia_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Reduced bone density of the femoral head and neck \u2014 often profound in TOH, usually visible on radiographs after 4\u20138 weeks", None))
#endif // QT_CONFIG(tooltip)
        self.osteopenia_label.setText(QCoreApplication.translate("ImagingDialog", u"&Osteopenia", None))
#if QT_CONFIG(tooltip)
        self.osteopenia.setToolTip(QCoreApplication.translate("ImagingDialog", u"Reduced bone density of the femoral head and neck \u2014 often profound in TOH, usually visible on radiographs after 4\u20138 weeks", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.osteopenia.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Osteopenia", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.subchondral_cortical_loss_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Loss of the thin cortex under the joint surface \u2014 virtually pathognomonic of TOH, seen in about 20%", None))
#endif // QT_CONFIG(tooltip)
        self.subchondral_cortical_loss_label.setText(QCoreApplication.translate("ImagingDialog", u"Subchondral cortical &loss", None))
#if QT_CONFIG(tooltip)
        self.subchondral_cortical_loss.setToolTip(QCoreApplication.translate("ImagingDialog", u"Loss of the thin cortex under the joint surface \u2014 virtually pathognomonic of TOH, seen in about 20%", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.subchondral_cortical_loss.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Subchondral cortical loss", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.joint_space_narrowed_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"TOH keeps the joint space; narrowing points to septic arthritis or tuberculous arthropathy", None))
#endif // QT_CONFIG(tooltip)
        self.joint_space_narrowed_label.setText(QCoreApplication.translate("ImagingDialog", u"Joint space &narrowed", None))
#if QT_CONFIG(tooltip)
        self.joint_space_narrowed.setToolTip(QCoreApplication.translate("ImagingDialog", u"TOH keeps the joint space; narrowing points to septic arthritis or tuberculous arthropathy", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.joint_space_narrowed.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Joint space narrowed", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.scintigraphy_uptake_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"Bone scan: increased homogeneous uptake fits TOH; a photopenic (cold) area points to AVN", None))
#endif // QT_CONFIG(tooltip)
        self.scintigraphy_uptake_label.setText(QCoreApplication.translate("ImagingDialog", u"&Scintigraphy uptake", None))
#if QT_CONFIG(tooltip)
        self.scintigraphy_uptake.setToolTip(QCoreApplication.translate("ImagingDialog", u"Bone scan: increased homogeneous uptake fits TOH; a photopenic (cold) area points to AVN", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.scintigraphy_uptake.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Scintigraphy uptake", None))
#endif // QT_CONFIG(accessibility)
#if QT_CONFIG(tooltip)
        self.report_label.setToolTip(QCoreApplication.translate("ImagingDialog", u"The radiologist's report", None))
#endif // QT_CONFIG(tooltip)
        self.report_label.setText(QCoreApplication.translate("ImagingDialog", u"Re&port", None))
#if QT_CONFIG(tooltip)
        self.report.setToolTip(QCoreApplication.translate("ImagingDialog", u"The radiologist's report", None))
#endif // QT_CONFIG(tooltip)
#if QT_CONFIG(accessibility)
        self.report.setAccessibleName(QCoreApplication.translate("ImagingDialog", u"Report text", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

