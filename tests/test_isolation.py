"""A print team's machine can skip the translate extra: only translate and models import Argos."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

PROBE = """
import sys
from click.testing import CliRunner
from pipeline.cli import main
for args in (["check"], ["status"], ["render", "--proof", "--edition", "en-US", "--format", "card"], ["history", "es"]):
    result = CliRunner().invoke(main, ["--project", sys.argv[1], *args])
    assert result.exit_code == 0, (args, result.output)
heavy = sorted(m for m in ("argostranslate", "torch", "ctranslate2", "stanza", "sentencepiece") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_check_status_render_never_import_argos_or_torch(project_dir):
    result = subprocess.run([sys.executable, "-c", PROBE, str(project_dir)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"
