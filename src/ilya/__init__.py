"""ilya: seven landmark machine-learning systems as working software."""

from ilya.envs import register_on_import as _register_on_import

__version__ = "0.1.0"

# Every Gymnasium environment of the library registers on `import ilya` (see ilya.envs).
_register_on_import()
