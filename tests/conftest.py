"""Shared test set-up: the network is closed outside loopback (fail closed)."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = SEEDS / "000_09fe83c6082f21eb.txt"
FIXTURES = ROOT / "fixtures"
FAULTS = FIXTURES / "faults"

_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else None
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # type: ignore[arg-type]
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> object:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may not open network connections (to {address!r})")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def clean_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never see the developer's keys or provider choice, and never write the user's history database:
    each test's daily runs go to a history of its own (child processes inherit it). A patcher of its own, so
    that a test's ``monkeypatch.undo()`` cannot undo it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "SUMMARIZER_PROVIDER",
            "SUMMARIZER_MODEL",
            "SUMMARIZER_REPLAY",
        ):
            patch.delenv(name, raising=False)
        patch.setenv("SUMMARIZER_DB", str(tmp_path_factory.mktemp("history") / "history.db"))
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
        yield


def fixture_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def recorded_scenarios() -> list[Path]:
    """The real embedded-model exchanges of single documents: the model-written path (--method extract); the
    embedded default asks the model nothing per document."""
    return sorted((FIXTURES / "extract").glob("*.jsonl"))


def source_of(scenario: Path) -> Path:
    """The document a recorded scenario briefed."""
    name = scenario.stem
    if name.startswith("000_"):
        return SEEDS / f"{name}.txt"
    return SEEDS / "wikinews" / f"{name}.txt"


# Tests write only under their temporary directories: the working tree must look the same
# after the session as before it (caches of Python, pytest and hypothesis aside).
_CACHES = ("__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache")


def _tree_state() -> dict[str, int] | None:
    import subprocess

    try:
        listed = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (an sdist): nothing to compare
    state = {}
    for line in listed.splitlines():
        if any(part in line for part in (*_CACHES, ".venv/")):
            continue
        path = ROOT / line[3:].strip('"')
        # a file rewritten in place (an ignored out/ file, say) shows by its modification time
        state[line] = path.stat().st_mtime_ns if path.is_file() else 0
    return state


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_TREE] = _tree_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_TREE, None)
    after = _tree_state()
    if before is None or after is None:
        return
    written = sorted(line for line, stamp in after.items() if before.get(line) != stamp)
    if written:
        session.config.get_terminal_writer().line(
            "tests wrote outside their temporary directories:\n  " + "\n  ".join(written), red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TREE = pytest.StashKey[dict[str, int] | None]()
