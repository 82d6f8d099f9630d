"""ilya: seven landmark machine-learning systems as working software."""

__version__ = "0.1.0"
