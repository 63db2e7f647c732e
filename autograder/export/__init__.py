"""Gradebook exports in the formats LMSs import, plus Gradescope-style results.json."""
from autograder.export.blackboard import export_blackboard
from autograder.export.canvas import export_canvas
from autograder.export.moodle import export_moodle
from autograder.export.plain import export_plain
from autograder.export.table import ExportError, ExportOptions

FORMATS = {
    "canvas": export_canvas,
    "moodle": export_moodle,
    "blackboard": export_blackboard,
    "plain": export_plain,
}

__all__ = ["FORMATS", "ExportError", "ExportOptions", "export_blackboard", "export_canvas",
           "export_moodle", "export_plain"]
