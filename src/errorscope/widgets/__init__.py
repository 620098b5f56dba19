"""The notebook widgets: thin anywidget layers over the pure computation modules."""

from .base import LinkedView
from .confusion_matrix import ConfusionMatrix
from .overview import ModelOverview, SelectionBar
from .slice_browser import SliceBrowser

__all__ = ["ConfusionMatrix", "LinkedView", "ModelOverview", "SelectionBar", "SliceBrowser"]
