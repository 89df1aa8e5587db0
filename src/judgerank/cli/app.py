"""The typer app every command registers on, its two consoles, and `main`, which turns every
failure into one line on stderr and an exit status (2 for a usage or input error, 130 for an
interruption, 1 for our own fault; JUDGERANK_DEBUG=1 shows the traceback)."""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperOption

from judgerank import __version__
from judgerank.core.errors import JudgerankError

app = typer.Typer(
    help="Turn LLM judgments into reliable rankings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
def stop_quietly_when_stdout_closes() -> None:
    """The reader of stdout has gone (`judgerank ... | head -c 10`): end at once and quietly, exit 0,
    as a Unix filter does. Later writes (and the flush at exit) go to /dev/null instead of raising
    again; without this, click and rich both exit 1 on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


class _Stdout(Console):
    def on_broken_pipe(self) -> None:
        stop_quietly_when_stdout_closes()


out = _Stdout()
err = Console(stderr=True)
# options renamed, still accepted: the store was once called the cache
ALIASES = {"--cache": "--store", "--no-cache": "--no-store"}


def _version(value: bool) -> None:
    if value:
        print(f"judgerank {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Turn LLM judgments into reliable rankings: rerank passages, judge responses, rank players."""


class Interrupted(JudgerankError):
    """Ctrl-C: the message says what was kept and how to resume."""


def reflowed(text: str) -> str:
    """A docstring as --help should show it: each paragraph one line, for the terminal to wrap
    (typer keeps the line breaks of every paragraph after the first, so help wrapped mid-sentence);
    list items ("- ...") and indented lines keep their own lines."""
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not line.startswith(("-", " ")):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def tidy_help() -> None:
    """--help as a reader wants it: every command's text reflowed, and no type shown for a flag
    (typer 0.2x shows `<bool>` beside --no-store and --help, which take no value)."""
    for command in app.registered_commands:
        text = command.help or (command.callback.__doc__ if command.callback else None)
        if text:
            command.help = reflowed(text)
    shown = TyperOption.display_type_rich
    if getattr(shown, "__name__", "") != "_flag_shows_no_type":

        def _flag_shows_no_type(self: TyperOption, ctx: Any) -> str | None:
            return None if self.is_flag else shown(self, ctx)

        TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign]


def _click_exceptions() -> Any:
    """The click exceptions typer raises: its vendored copy where it has one, else click's."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:  # typer releases that use click itself
        return importlib.import_module("click.exceptions")


def _aliased(argv: list[str]) -> list[str]:
    """argv with the renamed options spelt as they are now (--cache PATH is --store PATH)."""
    out_args = []
    for arg in argv:
        name, eq, value = arg.partition("=")
        out_args.append(ALIASES[name] + eq + value if name in ALIASES else arg)
    return out_args


STOP_WITHIN = 1.5  # seconds from Ctrl-C to exit, even when a model call cannot be interrupted
_WAKEUP: list[socket.socket] = []
PARTIALS: list[str] = []  # the results files this command is writing (judgerank.cli.tasks.Output)
STOP_MESSAGE: list[Callable[[], str]] = []  # what the work under way says when Ctrl-C ends it (run_tasks)


def _watch_interrupts() -> None:
    """Ctrl-C says "stopping" at once and the process ends within STOP_WITHIN seconds.

    Python runs its SIGINT handler (KeyboardInterrupt, which every command turns into what was
    kept and how to resume) only when the main thread is back in Python; a model call in C
    (llama.cpp loading or evaluating) can hold it for many seconds. The C-level handler writes
    the signal to a socket (signal.set_wakeup_fd), and this thread, which does not wait for the
    main one, reads it: it says "stopping", and ends the process if it has not ended in time.
    Judgments and results are written as each finishes, so nothing finished is lost. A second
    Ctrl-C quits at once."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    _WAKEUP.append(writer)  # held for the process's life: closing it would end the watch

    def watch() -> None:
        pressed = 0
        while data := reader.recv(16):
            pressed += data.count(signal.SIGINT)
            if pressed >= 2:
                os._exit(130)
            if pressed == 1:
                sys.stderr.write("stopping (Ctrl-C again to quit at once)\n")
                sys.stderr.flush()
                timer = threading.Timer(STOP_WITHIN, _stop_now)
                timer.daemon = True
                timer.start()

    threading.Thread(target=watch, name="judgerank-interrupts", daemon=True).start()


def _stop_now() -> None:
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return  # the Ray driver shuts its workers down first, however long that takes
    if STOP_MESSAGE:
        said = STOP_MESSAGE[-1]()
    else:
        kept = "".join(f"finished results are in {p}; " for p in PARTIALS)
        said = (f"interrupted during a model call; {kept}every finished judgment is in the store (unless "
                "--no-store): run the same command again to resume")
    sys.stderr.write(f"judgerank: {said}\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    errors = _click_exceptions()
    _watch_interrupts()
    try:
        app(args=_aliased(sys.argv[1:]), standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except errors.NoArgsIsHelpError:
        sys.exit(2)  # the help is already printed
    except errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "judgerank"
        err.print(f"judgerank: error: {exc.format_message()} (see '{command} --help')", markup=False, highlight=False,
                  soft_wrap=True)
        sys.exit(2)
    except errors.ClickException as exc:
        err.print(f"judgerank: error: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        err.print(f"judgerank: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(130)
    except (typer.Abort, KeyboardInterrupt):
        err.print("judgerank: interrupted; finished judgments are in the store: run the same command again to resume")
        sys.exit(130)
    except JudgerankError as exc:
        err.print(f"judgerank: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the CLI promises no tracebacks
        if os.environ.get("JUDGERANK_DEBUG"):
            raise
        err.print(f"judgerank: internal error: {type(exc).__name__}: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
