"""``bench.layout``: the launcher that shifts the interpreter's memory layout by a seed before a script."""

import random
import subprocess
import sys
from pathlib import Path

LAYOUT = Path(__file__).resolve().parents[2] / "bench" / "layout.py"
SCRIPT = """
import sys
padding = sum(cls.__name__.startswith("_Padding") for cls in object.__subclasses__())
print(__name__, sys.argv, padding)
"""


def run(tmp_path: Path, seed: int) -> str:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    out = subprocess.run([sys.executable, str(LAYOUT), str(seed), str(script), "--flag", "value"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_script_runs_as_main_with_its_own_arguments_after_the_seeds_padding(tmp_path):
    script = str(tmp_path / "script.py")
    classes = random.Random(7).randrange(4096)
    assert run(tmp_path, 7) == f"__main__ ['{script}', '--flag', 'value'] {classes}"
    assert run(tmp_path, 7) == run(tmp_path, 7)  # a seed always draws the same layout


def test_seed_zero_adds_nothing(tmp_path):
    assert run(tmp_path, 0) == f"__main__ ['{tmp_path / 'script.py'}', '--flag', 'value'] 0"
