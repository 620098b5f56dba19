"""The notebook widgets: thin anywidget layers over the pure computation modules."""

from .base import LinkedView
from .confusion_matrix import ConfusionMatrix
from .dashboard import Dashboard, dashboard
from .data_profile import DataProfile
from .error_tagger import ErrorTagger
from .force_viewer import ForceViewer
from .group_comparer import GroupComparer
from .model_comparer import ModelComparer
from .overview import ModelOverview, SelectionBar
from .residual_plot import ResidualPlot
from .slice_browser import SliceBrowser

__all__ = [
    "ConfusionMatrix",
    "Dashboard",
    "DataProfile",
    "ErrorTagger",
    "ForceViewer",
    "GroupComparer",
    "LinkedView",
    "ModelComparer",
    "ModelOverview",
    "ResidualPlot",
    "SelectionBar",
    "SliceBrowser",
    "dashboard",
]
