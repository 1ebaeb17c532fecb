"""Run a Python script with the interpreter's memory layout shifted by a seed, for the instruction benchmarks.

``python bench/layout.py SEED SCRIPT ARGS...`` runs SCRIPT as ``__main__`` (``odoo-bin``, or another
launcher such as ``bench.hooks_switch``) after a layout step drawn from SEED.

Why: two processes that run the same request count different instructions when anything loaded before
differs, the code of one more module included. The largest part measured is CPython's method cache: 4096
slots shared by every class, indexed by the class's version tag (a counter handed out as classes are first
looked up) and the address of the attribute's name. Which lookups collide, and so walk the class's whole MRO
(Odoo's registry classes have dozens of bases), follows from how many classes and strings were created
before, not from the code that runs. In one pair of Odoo HTTP servers started without this step, the
server with the addon installed (its hooks off) spent 9 k instructions more on those walks than the one
without it for version_info, and 37 k less for call_kw, making the same Python calls. A hash seed alone
leaves that pattern in place.

So before SCRIPT starts, a seed-drawn number of classes takes version tags and a seed-drawn number of
strings of a few sizes takes memory: every later class and name lands elsewhere, and averaging over seeds
averages over layouts instead of measuring one by chance. The padding stays alive and is never touched
again. Seed 0 adds nothing.
"""

import os
import random
import runpy
import sys

seed, script, *args = sys.argv[1:]
rng = random.Random(int(seed))
padding: list = []
if int(seed):
    for number in range(rng.randrange(4096)):
        cls = type(f"_Padding{number}", (), {})
        getattr(cls, "_padding", None)  # a lookup hands the class its version tag
        padding.append(cls)
    for size in (8, 24, 56, 120):
        padding.extend(sys.intern(f"_padding_{number}_".ljust(size, "x")) for number in range(rng.randrange(512)))

sys.argv = [script, *args]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
