"""Which llama.cpp server processes belong to this test run (shared by test_local and test_hostile)."""

from __future__ import annotations

import os
import time
from pathlib import Path

# Every process these tests start inherits this mark in its environment; a server is counted (and
# killed) only when it carries it, so servers that other programs run on this machine are never
# touched, and an orphan is still found after its parent died and it was re-parented.
MARK = f"SUMMARIZER_TEST_RUN={os.getpid()}-{time.monotonic_ns()}".encode()


def server_processes() -> list[int]:
    """Process ids of llama.cpp servers started by this test run."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if b"llama_cpp.server" not in command:
                    continue
                environment = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if MARK in environment:
                found.append(int(entry.name))
    return found
