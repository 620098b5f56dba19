"""The notebook widgets: thin anywidget layers over the pure computation modules."""

from .base import LinkedView
from .confusion_matrix import ConfusionMatrix
from .error_tagger import ErrorTagger
from .overview import ModelOverview, SelectionBar
from .slice_browser import SliceBrowser

__all__ = ["ConfusionMatrix", "ErrorTagger", "LinkedView", "ModelOverview", "SelectionBar", "SliceBrowser"]
