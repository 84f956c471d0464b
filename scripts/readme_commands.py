"""Print the README's Usage and Daily-briefs commands as one bash script that runs them as typed.

Every line of the ```sh blocks from "## Usage" up to the next "## " heading is run,
in order, in one shell (so the block's own `. .venv/bin/activate` holds for the
lines after it), then those of docs/review.md (which review the briefs the Usage
block wrote), each echoed first; the first that exits non-zero stops the script
with its command and code. ``scripts/as_a_user.sh`` runs it on a fresh copy of
the repository after ``make brief``.

    python3 scripts/readme_commands.py [REPOSITORY] > commands.sh
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path


def usage_commands(readme: str) -> list[str]:
    """The commands of the Usage section (Daily briefs included), trailing comments removed."""
    start = readme.index("\n## Usage")
    end = readme.find("\n## ", start + 1)
    return sh_commands(readme[start : end if end != -1 else len(readme)])


def sh_commands(text: str) -> list[str]:
    """Every line of the ```sh blocks of ``text``, trailing comments removed."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def as_script(commands: list[str]) -> str:
    lines = ["set -o pipefail"]
    for command in commands:
        shown = shlex.quote(f"$ {command}")
        failed = shlex.quote(f"README command failed: {command}")
        lines.append(f"echo {shown}")
        lines.append(f'{command} || {{ code=$?; echo {failed} "(exit $code)" >&2; exit 1; }}')
    lines.append(f"echo {shlex.quote(f'all {len(commands)} README commands exited 0')}")
    return "\n".join(lines) + "\n"


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    commands = usage_commands((root / "README.md").read_text(encoding="utf-8"))
    commands += sh_commands((root / "docs" / "review.md").read_text(encoding="utf-8"))
    sys.stdout.write(as_script(commands))


if __name__ == "__main__":
    main()
