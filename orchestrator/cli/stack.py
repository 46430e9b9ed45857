"""The local stack: run, stack up|down|status, asterisk up|down|status, deploy systemd."""

from __future__ import annotations

import asyncio
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.asterisk import install
from orchestrator.asterisk.layout import ROOTFS_NAME, Layout
from orchestrator.cli.common import (
    current_settings,
    dialplan_problems,
    errors_to_exit_codes,
    read_plan_file,
    repair_dialplan,
    runtime_for,
    say,
    say_dialplan,
)
from orchestrator.cli.plans import apply_document_cli
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import to_document
from orchestrator.services import deploy
from orchestrator.services.stack import Stack
from orchestrator.settings import Paths, Settings

commands = typer.Typer()  # top-level commands, added to the main app by cli/main.py
asterisk_app = typer.Typer(help="Run the local Asterisk 22 (loopback only).", no_args_is_help=True)
stack_app = typer.Typer(
    help="The whole one-machine stack: Asterisk, Redis, live controller, REST API, recordings worker.",
    no_args_is_help=True)
deploy_app = typer.Typer(help="Run it in production: generated service units.", no_args_is_help=True)
DEMO_PLAN = "demo-plan.yaml"


def _demo_plan_path() -> Path:
    return Path(str(resources.files("orchestrator") / DEMO_PLAN))


@asterisk_app.command("up")
def asterisk_up() -> None:
    """Get Asterisk 22 (first time: Debian sid into a cache folder, ~1 min) and start it."""
    with errors_to_exit_codes():
        settings = current_settings()
        rt = runtime_for(settings)
        rt.ensure_installed()
        rt.prepare()
        if not rt.status().get("running"):
            asyncio.run(repair_dialplan(settings, offline=True))  # the link Asterisk will load
        rt.up()
        asyncio.run(repair_dialplan(settings, offline=False))  # AstDB, and a running Asterisk
        _print_status(rt.status())
        say_dialplan(dialplan_problems(settings))


@asterisk_app.command("prepare")
def asterisk_prepare() -> None:
    """Write the instance's configuration and secrets without starting Asterisk (containers: Asterisk
    runs in its own container on that configuration, deploy/containers)."""
    with errors_to_exit_codes():
        settings = current_settings()  # generates the AMI/ARI secrets and the Redis password once
        rt = runtime_for(settings)
        rt.prepare()
        asyncio.run(repair_dialplan(settings, offline=True))  # the dialplan link Asterisk will load
        say(f"Asterisk configuration written to {rt.etc_dir} ({'chroot' if rt.chrooted else 'system'} mode)")


@asterisk_app.command("install")
def asterisk_install() -> None:
    """Get the Debian sid root filesystem with Asterisk 22 into SVC_ROOTFS_CACHE (~1 min, once),
    even where a system Asterisk exists: the container images are built from it."""
    with errors_to_exit_codes():
        settings = current_settings()
        root = settings.rootfs_cache / ROOTFS_NAME
        install.ensure_installed(Layout(root, None, Paths.of(settings, root)), say)
        say(f"Asterisk 22 root filesystem: {root}")


@asterisk_app.command("down")
def asterisk_down() -> None:
    """Stop the local Asterisk."""
    with errors_to_exit_codes():
        runtime_for(current_settings()).down()
        say("Asterisk stopped")


@asterisk_app.command("status")
def asterisk_status() -> None:
    """Is the local Asterisk running, on which ports."""
    with errors_to_exit_codes():
        settings = current_settings()
        status = runtime_for(settings).status()
        _print_status(status)
        say_dialplan(dialplan_problems(settings))
        if not status.get("running"):
            raise typer.Exit(1)


@deploy_app.command("systemd")
def deploy_systemd(
    out: Annotated[Path, typer.Option(help="Where to write the unit files.")] = Path("deploy-units"),
    env_file: Annotated[Path, typer.Option(help="The environment file the units read.")] = Path(
        "/etc/svcnum/svcnum.env"),
    replace_env: Annotated[bool, typer.Option(help="Overwrite an existing environment file.")] = False,
) -> None:
    """Write systemd units for Asterisk, the live controller, the REST API and the recordings
    worker, pointing at this installation (its virtualenv, SVC_STATE_DIR), and an environment file
    with this shell's SVC_* settings (0600; kept if it exists)."""


    with errors_to_exit_codes():
        settings = current_settings()
        rt = runtime_for(settings)
        where = deploy.Installation(Path(sys.executable).parent, env_file.resolve(), settings.state_dir,
                                    rt.pid_file)
        written = deploy.write(deploy.render_units(where), out, where.env_file,
                               deploy.env_file_text(os.environ, settings.state_dir), replace_env=replace_env)
        for path in written:
            say(f"wrote {path}")
        units = " ".join(deploy.UNITS)
        typer.echo(f"install with:\n  cp {out}/*.service /etc/systemd/system/ && systemctl daemon-reload\n"
                   f"  systemctl enable --now {units}")


def _print_status(status: dict[str, Any]) -> None:
    for key, value in status.items():
        typer.echo(f"{key:>12}: {value}")


PlanArgument = Annotated[Path | None, typer.Argument(help="Plan to load (default: the demo plan).")]


def stack_for(settings: Settings) -> Stack:
    return Stack(settings, runtime_for(settings), sys.executable, progress=say)


@commands.command()
def run(plan_file: PlanArgument = None) -> None:
    """Bring up the whole stack and apply a plan: Asterisk 22, Redis, live controller, REST API, recordings.

    All on this machine, on loopback (SVC_BIND_HOST); Redis with a password (SVC_REDIS_PASSWORD,
    else one generated into SVC_STATE_DIR/secrets). Parts already running are left as they are.
    Pid files and logs: SVC_STATE_DIR/run/ (Asterisk's are in its instance folder). Then
    `orchestrator status` shows each part and the live figures; `orchestrator stack down` stops
    everything. First run: ~1 min to get Asterisk 22."""
    with errors_to_exit_codes():
        settings = current_settings()
        path = plan_file or _demo_plan_path()
        plan = read_plan_file(path)
        stack = stack_for(settings)
        rt = stack.runtime
        rt.ensure_installed()
        rt.prepare()
        rt.up()
        say(f"{'asterisk':<10} up (pid {rt.status()['pid']}): SIP {settings.bind_host}:{settings.sip_port}/udp, "
            f"AMI {settings.bind_host}:{settings.ami_port}, ARI/HTTP {settings.bind_host}:{settings.http_port}")
        report = asyncio.run(apply_document_cli(settings, to_document(plan), path.parent.resolve(), offline=False))
        stack.up_services()
        for part in stack.status():
            typer.echo(part.line())
        national = parse_service_number(plan.numbers[0].number).national if plan.numbers else "?"
        typer.echo(
            f"Loaded {report.numbers} service numbers of tenant {report.tenant!r} from {path}\n"
            f"Wrote {report.files} dialplan files to {report.dialplan_dir}\n"
            f"Asterisk took it ({report.how}) in {(report.reload_seconds or 0) * 1000:.0f} ms; "
            f"{report.verified_contexts} contexts verified\n"
            f"Answer as the carrier (destinations ending in 1 answer, 2 busy, 3 ring, 4 unreachable):\n"
            f"  sipp -sf deploy/sipp/carrier.xml -i {settings.carrier_host} -p {settings.carrier_port} -bg\n"
            f"Place a test call from 020 123 4567:\n"
            f"  sipp {settings.bind_host}:{settings.sip_port} -sf deploy/sipp/caller.xml -s {national} "
            f"-key caller 0201234567 -m 1 -trace_msg\n"
            f"See what that call should do:  orchestrator simulate {national} --caller 0201234567\n"
            f"Each part and the live figures:  orchestrator status\n"
            f"REST API tokens:  orchestrator api token create --admin\n"
            f"Stop everything:  orchestrator stack down"
        )


@stack_app.command("up")
def stack_up(plan_file: PlanArgument = None) -> None:
    """The same as `orchestrator run`: every part up, a plan applied (default: the demo plan)."""
    run(plan_file)


@stack_app.command("down")
def stack_down() -> None:
    """Stop the recordings worker, REST API, live controller, Redis, then Asterisk (calls are cut)."""
    with errors_to_exit_codes():
        stopped = stack_for(current_settings()).down()
        say("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@stack_app.command("status")
def stack_status() -> None:
    """Each part: up / unhealthy / down, its pid, where it listens. Exit 1 unless all are up."""
    with errors_to_exit_codes():
        parts = stack_for(current_settings()).status()
        for part in parts:
            typer.echo(part.line())
        if not all(p.running and p.healthy for p in parts):
            raise typer.Exit(1)
