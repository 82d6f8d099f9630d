"""Compiled extensions (optional): ``pip install -e .`` builds them; ilya falls back to pure Python
when a compiler or Cython is missing, so a failed build never blocks the install."""

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build what can be built; a failing extension only prints a warning (its module has a fallback)."""

    def run(self):
        try:
            super().run()
        except Exception as e:  # noqa: BLE001
            print(f"warning: compiled extensions not built ({e}); using the pure-Python fallbacks")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001
            print(f"warning: extension {ext.name} not built ({e}); using its pure-Python fallback")


def extensions():
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:
        print("warning: Cython not available; compiled extensions skipped")
        return []
    exts = [
        # Metamath kernel: tokenizer, parser and proof checker on int32 symbol ids (ilya.metamath._fast)
        Extension("ilya.metamath._fast", ["src/ilya/metamath/_fast.pyx"], extra_compile_args=["-O2"]),
    ]
    try:
        return cythonize(exts, build_dir="build/cython", quiet=True,
                         compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False})
    except Exception as e:  # noqa: BLE001
        print(f"warning: cythonize failed ({e}); compiled extensions skipped")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
