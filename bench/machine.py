"""The machine a run was measured on, and how busy other processes kept it.

On a shared machine other programs take CPU time from the servers under test.
:class:`OtherLoadWatch` estimates their share from ``/proc/stat`` (Linux only):
the machine's busy time minus the CPU time of this process and its children.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "mailcourse",
    "aiosmtpd",
    "trustme",
    "cryptography",
    "nbval",
    "pytest",
    "jupyter_client",
    "ipykernel",
)
PROC_STAT = Path("/proc/stat")
# /proc/stat counts in clock ticks; os.times() reports seconds.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or what platform reports."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def temporary_folder_filesystem() -> str:
    """Describe the file system of the temp folder, where temporary Maildirs go.

    File creation cost depends on it. On Linux, ext4 without a journal skips
    recently deleted inodes when it allocates one. On the machine these
    benchmarks were built on, that made a new file cost up to about 1 ms of CPU.
    """
    folder = os.path.realpath(tempfile.gettempdir())
    mounts = Path("/proc/mounts")
    if not mounts.exists():
        return folder
    best = ("", "", "")
    for line in mounts.read_text().splitlines():
        device, mount_point, fstype = line.split()[:3]
        inside = folder == mount_point or folder.startswith(
            mount_point.rstrip("/") + "/"
        )
        if inside and len(mount_point) >= len(best[1]):
            best = (device, mount_point, fstype)
    device, _, fstype = best
    description = f"{folder} ({fstype} on {device}"
    if fstype == "ext4":
        journals = Path("/proc/fs/jbd2")
        name = Path(device).name
        has_journal = journals.is_dir() and any(
            entry.name.startswith(name + "-") for entry in journals.iterdir()
        )
        description += ", with journal" if has_journal else ", no journal"
    return description + ")"


def describe_machine() -> dict[str, str]:
    """Return CPU model, core count, OS, Python and package versions."""
    versions = package_versions()
    return {
        "CPU": cpu_model(),
        "Cores": str(os.cpu_count()),
        "OS": f"{platform.system()} {platform.release()}",
        "Temp folder": temporary_folder_filesystem(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Packages": ", ".join(
            f"{name} {version}" for name, version in versions.items()
        ),
        "Interpreter": sys.executable,
    }


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _machine_busy_seconds() -> tuple[float, float] | None:
    """Return (busy, total) CPU seconds summed over all cores since boot."""
    if not PROC_STAT.exists():
        return None
    fields = PROC_STAT.read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields]
    # user nice system idle iowait irq softirq steal (guest time is in user).
    idle = ticks[3] + ticks[4]
    total = sum(ticks[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def _own_cpu_seconds() -> float:
    """Return CPU seconds of this process and of the children it waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class OtherLoadWatch:
    """Measure the share of the machine that other processes used meanwhile.

    The share is in cores: 0.5 means other processes kept half a core busy on
    average. Kernel threads working for this run (disk writeback, for example)
    count as other load, so the figure is an upper bound.
    """

    def __init__(self) -> None:
        self._machine_start = _machine_busy_seconds()
        self._own_start = _own_cpu_seconds()

    def other_cores(self) -> float | None:
        """Return the average number of cores used by others since the start."""
        machine_end = _machine_busy_seconds()
        if self._machine_start is None or machine_end is None:
            return None
        busy = machine_end[0] - self._machine_start[0]
        total = machine_end[1] - self._machine_start[1]
        own = _own_cpu_seconds() - self._own_start
        cores = os.cpu_count() or 1
        elapsed = total / cores
        if elapsed <= 0:
            return None
        return max(0.0, busy - own) / elapsed
