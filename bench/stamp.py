"""Tables in the docs stamped with what they were measured at, written in place between markers.

A benchmark run with ``--write PAGE`` replaces the lines between
``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->`` of PAGE with its
table, headed by the commit it measured (marked when the work tree differs from
that commit), the date and the machine. Every row of such a table comes from one
run of one commit; the rest of the page is prose the docs keep.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``summarizer`` child process: no provider settings, no PATH to other tools, and
    PYTHONPATH kept, so that a checkout measured through PYTHONPATH measures its own code in every child."""
    env = {"PATH": "", **extra}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def stamp() -> str:
    """``commit `abc1234`, 2026-12-03, 2 cores, ...``: what a reader needs to rerun the table."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    code = ("summarizer", "bench", "tests/support", "prompts")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", *code)
    return f"commit `{commit}`{' with uncommitted changes' if dirty else ''}, {time.strftime('%Y-%m-%d')}, {machine()}"


def table(heading: str, rows: list[tuple[str, str]], columns: tuple[str, str] = ("measure", "result")) -> str:
    lines = [heading, "", f"| {columns[0]} | {columns[1]} |", "|---|---|"]
    lines += [f"| {name} | {result} |" for name, result in rows]
    return "\n".join(lines)


def write_between_markers(path: Path, name: str, text: str) -> None:
    """Replace what lies between the ``bench:NAME`` markers of ``path``; written whole or not at all."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    page = path.read_text(encoding="utf-8")
    if start not in page or end not in page:
        raise SystemExit(f"{path}: no {start} ... {end} markers to write the table between")
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
    scratch.replace(path)
