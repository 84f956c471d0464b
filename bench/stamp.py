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
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


_HISTORY = tempfile.TemporaryDirectory(prefix="bench-history-db-")  # removed when the benchmark exits


def history_db() -> str:
    """The benchmark's own history database (``daily`` children add their days there, not to the user's)."""
    return str(Path(_HISTORY.name) / "history.db")


def user_env() -> dict[str, str]:
    """This environment as a user's shell has it: PATH and PYTHONPATH kept, no provider settings, the
    benchmark's own history database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SUMMARIZER_"))}
    return {**env, "SUMMARIZER_DB": history_db()}


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``summarizer`` child process: no provider settings, no PATH to other tools, a
    history database of the benchmark's own (a daily run adds its day to one; the user's is never written),
    and PYTHONPATH kept, so that a checkout measured through PYTHONPATH measures its own code in every child."""
    env = {"PATH": "", "SUMMARIZER_DB": history_db(), **extra}
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
