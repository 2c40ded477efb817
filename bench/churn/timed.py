#!/usr/bin/python3
"""Runs one command and times it: wall, user and system CPU seconds and
peak RSS of the process (wait4), the time of each progress note the cvm
CLI prints, and a trace of the process's I/O and CPU.

- Notes: cvm draws its progress notes only when stderr is a terminal, so
  stderr goes to a pseudo-terminal here and every note ("churn score:
  scored 65536 of 1000000") is stamped with the seconds since the start.
- Trace: every 20 ms, /proc/PID/io (rchar, wchar: bytes through read and
  write calls, page cache included) and /proc/PID/stat (user + system
  CPU).  SQLite reads the store with pread() (cvm sets no mmap), so a
  phase where rchar climbs is reading the store, a flat one is computing,
  and a climbing wchar is writing results: report.py splits the stages on
  it.

stdout goes to OUT_FILE.  Prints one line of JSON:
  {"rc", "wall", "user", "sys", "cpu", "maxrss_mb", "notes": [[t, text]..],
   "trace": [[t, rchar_MB, wchar_MB, cpu_s]..]}

usage: timed.py OUT_FILE CMD [ARGS...]
"""
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

out_path, cmd = sys.argv[1], sys.argv[2:]
env = dict(os.environ)
env.pop("CVM_NO_PROGRESS", None)
TICK = os.sysconf("SC_CLK_TCK")
master, slave = pty.openpty()
t0 = time.monotonic()
with open(out_path, "wb") as out:
    p = subprocess.Popen(cmd, stdout=out, stderr=slave, env=env)
os.close(slave)
notes, trace, buf = [], [], b""
ansi = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


def sample():
    try:
        with open(f"/proc/{p.pid}/io") as f:
            io = dict(line.split(": ") for line in f.read().splitlines())
        with open(f"/proc/{p.pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        cpu = (int(st[11]) + int(st[12])) / TICK  # utime, stime
        trace.append([round(time.monotonic() - t0, 3),
                      round(int(io["rchar"]) / 1e6, 2),
                      round(int(io["wchar"]) / 1e6, 2), round(cpu, 2)])
    except (OSError, ValueError, IndexError, KeyError):
        pass


done = False
while not done:
    r, _, _ = select.select([master], [], [], 0.02)
    sample()
    if not r:
        if p.poll() is not None and not r:
            # The child is gone but the terminal may still hold output.
            r2, _, _ = select.select([master], [], [], 0)
            if not r2:
                break
        continue
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    now = time.monotonic() - t0
    buf += ansi.sub(b"", chunk)
    # A note ends where the next "\r" (or a newline) starts.
    parts = re.split(rb"[\r\n]", buf)
    buf = parts.pop()
    for part in parts:
        s = part.decode("utf-8", "replace").strip()
        if s and (not notes or notes[-1][1] != s):
            notes.append([round(now, 3), s])
    # A note with no terminator yet: stamp it when it appears.
    s = buf.decode("utf-8", "replace").strip()
    if s:
        notes.append([round(now, 3), s])
        buf = b""
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
os.close(master)
rc = os.waitstatus_to_exitcode(status)
# Error messages ("cvm CMD: ...") pass through; progress bars and notes
# do not.
for t, s in notes:
    if s.startswith("cvm ") or "error" in s or "warning" in s:
        sys.stderr.write(s + "\n")
print(json.dumps({"rc": rc, "wall": round(wall, 3),
                  "user": round(ru.ru_utime, 3), "sys": round(ru.ru_stime, 3),
                  "cpu": round(ru.ru_utime + ru.ru_stime, 3),
                  "maxrss_mb": round(ru.ru_maxrss / 1024, 1),
                  "notes": notes, "trace": trace}))
sys.exit(rc)
