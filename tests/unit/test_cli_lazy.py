"""`orchestrator --help` imports no database, HTTP, Redis or AMI library; its table of commands
(cli/main.py COMMANDS) matches the commands the group modules define."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from orchestrator.cli.main import COMMANDS, load_command

HEAVY = ("sqlmodel", "sqlalchemy", "aiohttp", "panoramisk", "redis")
PROBE = """
import sys
from orchestrator.cli.main import main
sys.argv = ["orchestrator", "--help"]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("LOADED:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_help_loads_no_database_http_or_ami_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True,
                         timeout=60, check=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout
    assert out.rstrip().endswith("LOADED:"), out[-300:]
    for name in COMMANDS:
        assert f" {name} " in out


def test_the_table_names_every_command_of_every_group_module() -> None:
    defined: set[str] = set()
    for module in {e.module for e in COMMANDS.values()}:
        mod = importlib.import_module(module)
        commands = getattr(mod, "commands", None)
        if commands is not None:
            defined |= set(typer.main.get_group(commands).commands)
    defined |= {n for n, e in COMMANDS.items() if e.is_group}
    assert defined == set(COMMANDS)


def test_the_short_help_in_the_table_is_each_command_s_own_first_line() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert first == entry.help, name
