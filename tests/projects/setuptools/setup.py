import os
from pathlib import Path

from setuptools import Extension, setup

# Both prove that the user's own cibuildwheel settings still took effect under ccwheel.
greeting = os.environ.get("EXAMPLE_GREETING", "unset")
before_build = Path("before_build_ran.txt").is_file()

setup(
    ext_modules=[
        Extension(
            "ccwheel_example",
            sources=sorted(str(p) for p in Path("src").glob("*.cpp")),
            include_dirs=["src"],
            define_macros=[
                ("EXAMPLE_GREETING", f'"{greeting}"'),
                ("EXAMPLE_BEFORE_BUILD", "1" if before_build else "0"),
            ],
            language="c++",
        ),
        # A C extension too: setuptools compiles C and C++ with different compilers.
        Extension(
            "ccwheel_example_c",
            sources=sorted(str(p) for p in Path("csrc").glob("*.c")),
            # Absolute, as many setup.py files make them: a checkout elsewhere still hits
            # (the project is a base directory).
            include_dirs=[str(Path("csrc").resolve())],
        ),
    ]
)
