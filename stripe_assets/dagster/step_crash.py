"""One line for a step process that died without an error, instead of a bare
`ChildProcessCrashException`.

A step killed with SIGKILL is, unless someone killed it by hand, the kernel's out-of-memory
killer: the process (or its container) reached its memory limit. The line names that limit, as
the cgroup states it (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`), and whether the
cgroup's out-of-memory kill count rose while the run went on.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_NO_LIMIT = 1 << 60  # v1 states "no limit" as a number near 2**63
_SIGNAL = re.compile(r"terminated by signal (\d+)")
_EXIT = re.compile(r"exited with code (-?\d+)")


def _cgroup_dirs(root: Path) -> list[Path]:
    """The memory cgroup folders of this process: v2 (unified), then v1."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":
            found += [root / relative, root / "unified" / relative]
        elif "memory" in controllers.split(","):
            found += [root / "memory" / relative, root / "memory"]
    return [d for d in found if d.is_dir()]


def memory_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The memory limit of this process's cgroup in bytes, or None when there is none."""
    for folder in _cgroup_dirs(root):
        for name in ("memory.max", "memory.limit_in_bytes"):
            try:
                text = (folder / name).read_text().strip()
            except OSError:
                continue
            if text.isdigit() and int(text) < _NO_LIMIT:
                return int(text)
            return None
    return None


def oom_kills(root: Path = CGROUP_ROOT) -> int | None:
    """How many processes the out-of-memory killer ended in this process's cgroup (None: unknown)."""
    for folder in _cgroup_dirs(root):
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = (folder / name).read_text()
            except OSError:
                continue
            match = re.search(r"^oom_kill (\d+)$", text, re.M)
            if match:
                return int(match.group(1))
    return None


def crash_line(step: str, explanation: str | None, *, kills_before: int | None = None) -> str:
    """What to tell the user about `step`'s process, from Dagster's explanation of its end."""
    signal_match = _SIGNAL.search(explanation or "")
    exit_match = _EXIT.search(explanation or "")
    code = int(signal_match.group(1)) if signal_match else None
    if code is None and exit_match and int(exit_match.group(1)) < 0:
        code = -int(exit_match.group(1))  # multiprocessing states a signal as a negative exit code
    if code == signal.SIGKILL:
        limit = memory_limit()
        where = (
            f"the memory limit of {limit / 2**30:.1f} GiB (cgroup) of this run" if limit is not None
            else "the machine's memory (no memory limit is set for this run's cgroup)"
        )
        kills = oom_kills()
        certain = kills is not None and kills_before is not None and kills > kills_before
        how = "by the out-of-memory killer" if certain else "(SIGKILL), as the out-of-memory killer does"
        return (
            f"the process of step {step} was killed {how} at {where}: give the run more memory "
            "or load fewer partitions per run"
        )
    if code is not None:
        return f"the process of step {step} was killed by signal {code} ({signal.Signals(code).name}) without an error"
    if exit_match:
        return f"the process of step {step} exited with code {exit_match.group(1)} without an error"
    return f"the process of step {step} ended without an error (it was killed or crashed)"
