"""Run a command and write its peak RSS (KiB, from ``wait4``) to the file named first.

The measurement has to come from a small parent: a child forked from the test
process (hundreds of MB once TensorFlow is loaded) starts with that process's
high-water mark, so ``wait4`` in pytest reports pytest's size, not the command's.
Usage: ``python _peak.py REPORT_FILE CMD ARGS...``; exits with the command's code.
"""

import os
import subprocess
import sys

report, argv = sys.argv[1], sys.argv[2:]
proc = subprocess.Popen(argv)
_, status, usage = os.wait4(proc.pid, 0)
with open(report, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
