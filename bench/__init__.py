import json

#: a benchmark script run inside Odoo prints each of its results on a line of its own, after this
RESULT = "RESULT "


def results(output: str) -> list:
    """The results a script printed (``print(RESULT + json.dumps(...))``), in order."""
    return [json.loads(line[len(RESULT):]) for line in output.splitlines() if line.startswith(RESULT)]
