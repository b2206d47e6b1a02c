"""`exchange demo` as a newcomer runs it: a real broker and real processes, small data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.broker


def test_demo_runs_the_whole_pipeline_and_prints_a_marked_briefing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "exchange", "demo", "--workdir", str(tmp_path / "run"),
                             "--rows", "40"],
                            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    out = result.stdout
    assert "40 accepted, 6 rejected" in out
    assert re.search(r"delivered\s+northshire-council 40/40", out)
    assert re.search(r"northshire-victim-support: opened 0, refused \d+", out)
    briefing = out[out.index("=" * 25):].strip().splitlines()
    assert "OFFICIAL" in briefing[0] and "OFFICIAL" in [line for line in briefing if line.startswith("=")][-1]
    assert "Daily partnership briefing: Northshire Community Safety Partnership" in out
    assert re.search(r"northshire-police police_crime_offence: newest record .*, last supply ", out)
    page = (tmp_path / "run" / "briefing.html").read_text()
    assert re.findall(r'<div class="marking (top|bottom)" data-marking="OFFICIAL">', page) == ["top", "bottom"]
    assert "<h2>Police recorded crime: offences <small>(police_crime_offence)</small></h2>" in page
    assert "Analysis Unit, Northshire Police" in page  # the supply's metadata: contact and caveats
    # The command the demo prints to export the council's (sealed) records works as printed.
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("EXCHANGE_KEY_PASSPHRASE_FILE="))
    assignment, *command = line.split()
    name, value = assignment.split("=", 1)
    exported = subprocess.run([sys.executable, "-m", "exchange", *command[1:]], capture_output=True, text=True,
                              env={**os.environ, name: value}, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "offences.xlsx").exists() and "40 record(s)" in exported.stdout
    # Every process the demo started has stopped: nothing is left listening in its work tree.
    if shutil.which("pgrep"):
        leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "run")], capture_output=True, text=True)
        assert leftover.stdout.strip() == ""
