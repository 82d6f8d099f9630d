"""Data for FFJORD's experiments: 2D toys, the MAF tabular sets, and images."""

from ilya.ffjord.data.images import IMAGES, Images, load_images
from ilya.ffjord.data.tabular import TABULAR, Splits, load_tabular
from ilya.ffjord.data.toy import TOY, sample_toy

__all__ = ["IMAGES", "TABULAR", "TOY", "Images", "Splits", "load_images", "load_tabular", "sample_toy"]
