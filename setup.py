"""Build the optional C accelerator; everything else is declared in pyproject.toml.

``vidiframe._rowscan`` speeds up reading large responses. It is optional: where it
cannot be compiled, the reader takes its pure-Python path, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "vidiframe._rowscan",
            sources=["vidiframe/_rowscan.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
