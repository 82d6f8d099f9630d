"""ilya: seven landmark machine-learning systems as working software."""

import sys as _sys

__version__ = "0.1.0"

# Environments register with Gymnasium on `import ilya` when Gymnasium is loaded (without paying for
# importing it otherwise; Gymnasium's plugin entry point registers them when it is imported later).
if "gymnasium" in _sys.modules:
    from ilya.envs import register_envs as _register

    _register()
