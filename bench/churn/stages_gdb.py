# stages_gdb.py - gdb script: times the library calls of one cvm command.
#
# A breakpoint on each function below records the time of the call and a
# finish breakpoint the time of its return; neither stops the program, so
# it runs at full speed between the few hits (one per 65,536-row chunk for
# cvm_model_predict).  At each hit it also reads the process's CPU time
# (user + system of all its threads, /proc/PID/stat, 10 ms ticks).
# Writes JSON to $STAGES_OUT:
#   {"wall": s, "calls": [[function, start s, end s, start CPU s,
#                          end CPU s], ...]}
#
# usage: STAGES_OUT=F.json gdb -batch -nx -x stages_gdb.py --args CMD...
import json
import os
import time

import gdb

FUNCS = ["cvm_model_load", "cvm_churn_score", "cvm_features_load",
         "cvm_design_check", "cvm_model_predict",
         "cvm_model_contributions_ex", "cvm_model_contributions_by_feature",
         "cvm_churn_scores_save", "cvm_store_write_table"]
T0 = None
calls = []


TICK = os.sysconf("SC_CLK_TCK")


def now():
    return time.monotonic() - T0


def cpu():
    try:
        pid = gdb.selected_inferior().pid
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        return round((int(st[11]) + int(st[12])) / TICK, 2)
    except (OSError, ValueError, IndexError):
        return None


class Finish(gdb.FinishBreakpoint):
    def __init__(self, name, start, cpu0):
        super().__init__(gdb.newest_frame(), internal=True)
        self.silent = True
        self.name, self.start, self.cpu0 = name, start, cpu0

    def stop(self):
        calls.append([self.name, round(self.start, 4), round(now(), 4),
                      self.cpu0, cpu()])
        return False

    def out_of_scope(self):
        calls.append([self.name, round(self.start, 4), None, self.cpu0,
                      None])


class Entry(gdb.Breakpoint):
    def stop(self):
        Finish(self.location, now(), cpu())
        return False


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set print thread-events off")
gdb.execute("set print inferior-events off")
gdb.execute("set breakpoint pending on")
for f in FUNCS:
    b = Entry(f, internal=True)
    b.silent = True
T0 = time.monotonic()
gdb.execute("run")
wall = now()
with open(os.environ["STAGES_OUT"], "w") as out:
    json.dump({"wall": round(wall, 3), "calls": calls}, out)
