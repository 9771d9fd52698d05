"""Fixed facts of the format and of the originals' training setups."""

CONVERTER_NAME = "mimetic_tools.convert"
CONVERTER_VERSION = "1.0"
FORMAT_VERSION = "1"

FAMILIES = ("faceformer", "imitator", "mimic")

# One-hot order of the training subjects (FaceFormer main.py / Imitator cfg `train_subjects`).
VOCASET_TRAIN_SUBJECTS = [
    "FaceTalk_170728_03272_TA",
    "FaceTalk_170904_00128_TA",
    "FaceTalk_170725_00137_TA",
    "FaceTalk_170915_00223_TA",
    "FaceTalk_170811_03274_TA",
    "FaceTalk_170913_03279_TA",
    "FaceTalk_170904_03276_TA",
    "FaceTalk_170912_03278_TA",
]
BIWI_TRAIN_SUBJECTS = ["F2", "F3", "F4", "M3", "M4", "M5"]

STANDARD_CONV_STRIDE = [5, 2, 2, 2, 2, 2, 2]
BIWI_MOTION_DIM = 23370 * 3
DEFAULT_MAX_SEQ_LEN = 600
