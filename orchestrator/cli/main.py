"""The ``orchestrator`` command line: a table of the commands, each group's module imported only
when one of its commands runs.

``orchestrator --help`` therefore loads no database, HTTP or AMI library (sqlmodel, aiohttp,
panoramisk, redis): it shows the short help kept in ``COMMANDS`` below (tests/unit/test_cli_lazy.py
checks that it matches each command's own help).

Exit codes: 0 done, 2 the input is wrong (invalid plan, malformed number, unknown number),
3 Asterisk is unreachable or refused the change (the previous dialplan stays active), 1 other.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Entry:
    module: str  # orchestrator.cli.<group>
    attribute: str  # the Typer app there: a group (``number_app``) or a set of top-level ``commands``
    help: str  # the one line ``orchestrator --help`` shows

    @property
    def is_group(self) -> bool:
        return self.attribute != "commands"


_PLANS, _NUMBERS, _STACK, _LIVE = (f"orchestrator.cli.{m}" for m in ("plans", "numbers", "stack", "live"))
COMMANDS: dict[str, Entry] = {
    "apply": Entry(_PLANS, "commands", "Validate a plan, store it, generate the dialplan and load it into Asterisk."),
    "plan": Entry(_PLANS, "commands", "Show what applying PLAN_FILE would change, per service number, in words."),
    "rollback": Entry(_PLANS, "commands",
                      "Put a tenant's routing back as it was in an earlier applied version, and load it."),
    "try": Entry(_PLANS, "commands",
                 "Put NUMBER's routing from a draft plan on the tenant's 088 test number, to call it first."),
    "promote": Entry(_PLANS, "commands", "Move what the tenant's test number runs onto the live NUMBER."),
    "validate": Entry(_PLANS, "commands", "Check a plan against the package rules without changing anything."),
    "export": Entry(_PLANS, "commands",
                    "Write a tenant's plan as YAML, as it stands now (switch moments passed are folded in)."),
    "history": Entry(_PLANS, "commands", "Applied versions, newest first (ids for `orchestrator rollback`)."),
    "numbers": Entry(_NUMBERS, "commands",
                     "List the configured service numbers with their kind, package and routing in force."),
    "simulate": Entry(_NUMBERS, "commands",
                      "Tell what would happen to one call, step by step, from the same IR the dialplan uses."),
    "run": Entry(_STACK, "commands",
                   "Bring up the whole stack and apply a plan: Asterisk 22, Redis, live controller, REST API, "
                   "recordings."),
    "serve": Entry(_LIVE, "commands",
                   "Run the live controller next to Asterisk: calls over AMI, figures in Redis, /health, /metrics."),
    "status": Entry(_LIVE, "commands",
                    "Each part of the stack, then the live figures: calls in progress per number and tenant, "
                    "today's outcomes."),
    "number": Entry(_NUMBERS, "number_app", "Service numbers: list them, show one, allocate them to tenants."),
    "blacklist": Entry(_NUMBERS, "blacklist_app", "A service number's blacklist (live: no dialplan reload)."),
    "list": Entry("orchestrator.cli.lists", "list_app",
                  "A tenant's digit lists, checked by call flows' input blocks (live: no reload)."),
    "flow": Entry("orchestrator.cli.flows", "flow_app",
                  "A tenant's Premium call flows: show, export, try a draft on the test number, promote it."),
    "stack": Entry(_STACK, "stack_app",
                   "The whole one-machine stack: Asterisk, Redis, live controller, REST API, recordings worker."),
    "asterisk": Entry(_STACK, "asterisk_app", "Run the local Asterisk 22 (loopback only)."),
    "deploy": Entry(_STACK, "deploy_app", "Run it in production: generated service units."),
    "api": Entry("orchestrator.cli.api", "api_app", "The REST API (aiohttp): serve it, manage its bearer tokens."),
    "recordings": Entry("orchestrator.cli.recordings", "recordings_app",
                        "Call recordings: encrypted at rest, per tenant, with retention."),
    "agent": Entry("orchestrator.cli.callcentre", "agent_app",
                   "Call-centre agents: log in / out, unavailable with a reason, list."),
    "queue": Entry("orchestrator.cli.callcentre", "queue_app",
                   "Queues and hunt groups: waiting calls, night service, supervisor actions."),
    "cluster": Entry("orchestrator.cli.cluster", "cluster_app",
                     "A cluster of Asterisk nodes behind Kamailio: its files and the nodes' state."),
    "report": Entry("orchestrator.cli.reports", "report_app",
                    "Historical reports per interval: volume, waiting, queues, origins, peaks, callers, routing, "
                    "finance."),
    "db": Entry("orchestrator.cli.db", "db_app",
                "The database: its schema version, and upgrading it after a new release."),
}


def load_command(name: str) -> Any:
    """The real command ``name`` (a click command): imports its group's module, and with it what
    that group needs."""
    entry = COMMANDS[name]
    group = typer.main.get_group(getattr(importlib.import_module(entry.module), entry.attribute))
    command = group if entry.is_group else group.commands[name]
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """Holds a stand-in per command of ``COMMANDS`` (its name and short help: enough for ``--help``
    and for "did you mean") and swaps in the real command only to run it.
    (Contexts are typed Any: Typer ships its own copy of click, whose types are private.)"""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            self.commands[name] = TyperCommand(name, help=entry.help, short_help=entry.help)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)  # in the table's order, not sorted

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        return name, (load_command(name) if name is not None and command is not None else command), rest


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def orchestrator() -> None:
    """Routing orchestrator for Dutch service numbers (0800, 090x, 088, local, short and international
    numbers) on Asterisk 22. Settings come from SVC_* environment variables; see docs/."""


def main() -> None:
    app()
