"""The notebook widgets: thin anywidget layers over the pure computation modules."""

from .base import LinkedView
from .confusion_matrix import ConfusionMatrix
from .slice_browser import SliceBrowser

__all__ = ["ConfusionMatrix", "LinkedView", "SliceBrowser"]
