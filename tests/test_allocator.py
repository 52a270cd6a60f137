"""The worker's malloc arenas (service/allocator.py)."""
import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_arenas_are_capped_unless_the_operator_set_them():
    code = "from service import allocator; print(allocator.limit_arenas())"
    env = {"PATH": "/usr/bin:/bin"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout.strip() == "True"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "MALLOC_ARENA_MAX": "4"}, check=True).stdout.strip() == "False"
