"""The README's Usage commands run as typed, against replay fixtures.

Every line of the ```sh blocks from "## Usage" up to the next "## " heading (so
"## Usage" and its "### Daily briefs") is run by bash, in order, in a scratch
folder holding the repository's ``examples/`` and ``seeds/`` (as a newcomer's
checkout would), with ``summarizer`` on the PATH and the LLM answered from
``fixtures/strong`` ($SUMMARIZER_REPLAY; the strong reference answers, so the
commands see real content). Each must exit 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

README = ROOT / "README.md"


def usage_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Usage")
    end = text.find("\n## ", start + len("## Usage"))
    usage = text[start : end if end != -1 else len(text)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", usage, re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()  # the trailing comment
            if command:
                commands.append(command)
    return commands


def test_the_usage_section_names_only_files_that_ship() -> None:
    commands = usage_commands()
    assert len(commands) >= 11
    for command in commands:
        for word in command.split():
            if word.startswith(("examples/", "seeds/")):
                assert (ROOT / word).exists(), f"{word} (in: {command})"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_every_usage_command_runs_as_typed(tmp_path: Path) -> None:
    for folder in ("examples", "seeds"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    venv = tmp_path / ".venv" / "bin"  # what `. .venv/bin/activate` finds in a checkout
    venv.mkdir(parents=True)
    (venv / "activate").write_text(f'PATH="{Path(sys.executable).parent}:$PATH"\n', encoding="utf-8")
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "SUMMARIZER_REPLAY": str(FIXTURES / "strong"),
        "SUMMARIZER_MODEL": "gpt-4o-mini",
        "NO_COLOR": "1",
    }
    for command in usage_commands():
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        if command.startswith("summarizer schema") or "json.tool" in command:
            assert done.stdout.lstrip().startswith("{")
    assert (tmp_path / "days" / "2026-11-28" / "digest.json").is_file()
    assert (tmp_path / "report" / "index.html").is_file() and (tmp_path / "report" / "korea.html").is_file()
