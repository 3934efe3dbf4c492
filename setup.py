"""Builds carbonclock's native extension with CMake (the same build as the CLI) for pip.

    pip install --no-build-isolation .

CARBONCLOCK_BUILD_DIR=DIR reuses an existing CMake build directory (scripts/test.sh points it at
build/, so only the extension is compiled); otherwise a Release build of the libraries is made
under build/python-setuptools/. Needs cmake, a C++20 compiler, pybind11-dev and the libraries
scripts/setup.sh installs.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(carbonclock VERSION ([0-9.]+)", text).group(1)


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        reuse = os.environ.get("CARBONCLOCK_BUILD_DIR")
        build_dir = Path(reuse).resolve() if reuse else Path(self.build_temp).resolve() / "cmake"
        staging = build_dir / "python-extension"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCARBONCLOCK_BUILD_PYTHON=ON",
            f"-DCARBONCLOCK_PYTHON_OUTPUT_DIR={staging}",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if not reuse:
            configure += ["-DCMAKE_BUILD_TYPE=Release", "-DCARBONCLOCK_BUILD_TESTS=OFF",
                          "-DCARBONCLOCK_BUILD_BENCH=OFF"]
            if shutil.which("ninja"):
                configure += ["-G", "Ninja"]
        subprocess.check_call(configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target",
                               "carbonclock_native", "-j", jobs])
        built = sorted(staging.glob("_native*.so"))
        if not built:
            raise RuntimeError(f"carbonclock: no _native*.so in {staging} after the build")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


setup(
    version=project_version(),
    ext_modules=[CMakeExtension("carbonclock._native")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build/python-setuptools"}},
)
