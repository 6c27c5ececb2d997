import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

# setuptools takes sources only relative to setup.py, but other paths absolute, as projects
# that locate their headers from __file__ give them: in the backend's temporary copy they
# are random on every build, and Cython writes them into the C it generates.
here = os.path.dirname(os.path.abspath(__file__))


class build_ext(_build_ext):
    """Cythonize when the extensions are built, not when setup.py is merely loaded."""

    def finalize_options(self):
        from Cython.Build import cythonize

        # A source generated at build time that names where it was generated, in a comment
        # only (as Cython does in the C it writes for some projects): its text changes with
        # the temporary directory, its preprocessed form does not.
        with open(os.path.join("fastsum", "_where.c"), "w") as f:
            f.write(f"/* generated in {here} */\nint fastsum_generated = 1;\n")
        for ext in self.distribution.ext_modules:
            ext.sources.append("fastsum/_where.c")
        self.distribution.ext_modules = cythonize(
            self.distribution.ext_modules, compiler_directives={"language_level": 3}
        )
        super().finalize_options()


setup(
    packages=["fastsum"],
    cmdclass={"build_ext": build_ext},
    ext_modules=[
        Extension(
            "fastsum._speed",
            sources=["fastsum/_speed.pyx", "fastsum/helper.c"],
            include_dirs=[os.path.join(here, "include")],
        )
    ],
)
