"""Peak memory of the running process, shared by the benchmarks."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's resident high-water mark in MiB.

    Linux's VmHWM starts afresh with the process's own memory map, whereas ru_maxrss can
    carry over a forking parent's peak; elsewhere ru_maxrss counts KiB (bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    unit = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2**20
