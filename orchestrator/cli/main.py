"""The ``orchestrator`` command line: the main app adds each group's commands.

Exit codes: 0 done, 2 the input is wrong (invalid plan, malformed number, unknown number),
3 Asterisk is unreachable or refused the change (the previous dialplan stays active), 1 other.
"""

from __future__ import annotations

import typer

from orchestrator.cli import numbers, plans, stack
from orchestrator.cli.api import api_app
from orchestrator.cli.callcentre import agent_app, queue_app
from orchestrator.cli.db import db_app
from orchestrator.cli.live import register as register_live_commands
from orchestrator.cli.recordings import recordings_app

app = typer.Typer(
    help="Routing orchestrator for Dutch service numbers (0800, 090x, 088, local, short and "
    "international numbers) on Asterisk 22. Settings come from SVC_* environment variables; "
    "see docs/.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for group in (plans, numbers, stack):
    app.registered_commands += group.commands.registered_commands
app.add_typer(numbers.number_app, name="number")
app.add_typer(numbers.blacklist_app, name="blacklist")
app.add_typer(stack.asterisk_app, name="asterisk")
app.add_typer(stack.deploy_app, name="deploy")
register_live_commands(app)  # serve, status
app.add_typer(api_app, name="api")  # REST API and its tokens
app.add_typer(recordings_app, name="recordings")  # call recordings
app.add_typer(agent_app, name="agent")  # call-centre agents
app.add_typer(queue_app, name="queue")  # queues, night service, supervisor
app.add_typer(db_app, name="db")  # schema version and upgrade


def main() -> None:
    app()
