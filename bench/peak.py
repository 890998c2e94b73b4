"""Run a command and report its peak memory: `python -m bench.peak FILE COMMAND...`.

The bench measures each solver as a child of this small process, not of the bench itself: on
Linux a child's peak resident set counts what it inherited before `exec`, so a child of the bench
(which holds instances and answers in memory) would report the bench's size as its own floor.
The command's exit code is this process's; its peak (KiB) is written to FILE.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path


def main() -> int:
    report, command = Path(sys.argv[1]), sys.argv[2:]
    code = subprocess.call(command)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report.write_text(str(peak), encoding="utf-8")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
