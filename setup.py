"""Build script: metadata lives in setup.cfg; this only adds the optional C kernels."""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "torchw2v._w2v_kernels",
            sources=["torchw2v/native/w2v_kernels.c"],
            extra_compile_args=["-O3"],
            libraries=["m"],
            optional=True,  # no compiler: install anyway, train on CPU with the torch path
        )
    ],
)
