"""The `compass-tui` command. With no command it opens the TUI; every TUI action has a command here too."""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path

from compass_tui import __version__, paths
from compass_tui.errors import BusyError, InputError
from compass_tui.inputs import check_toml_file
from compass_tui.safe_text import printable
from compass_tui.workspace import Context

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
_COMMAND_MODULES = (
    "personas",
    "tools",
    "models",
    "runs",
    "variants",
    "scoring",
    "training",
    "study",
    "annotate",
    "serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = _global_parser(add_help=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        module = __import__(f"compass_tui.cli.{name}", fromlist=["add_parser"])
        module.add_parser(commands)
    return parser


def _global_parser(add_help: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compass-tui",
        add_help=add_help,
        description="A terminal workbench for evaluating LLM companion agents on ComPASS. "
        "Run without a command to open the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"compass-tui {__version__}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where runs and scores live (default: $COMPASS_TUI_HOME or the user data dir)",
    )
    parser.add_argument(
        "--tool-data", type=Path, help="tool data folder, ours or a ComPASS checkout's toolenv/"
    )
    parser.add_argument(
        "--embedding-model", help="path of a local sentence-transformers model for semantic search"
    )
    parser.add_argument(
        "--study", metavar="NAME", help="open the TUI on this study's triage (for the study's owner)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    options, rest = _global_parser(add_help=False).parse_known_args(argv)
    if not rest:  # no command: open the TUI without importing every command's module first
        args = options
        args.command = None
    else:
        args = build_parser().parse_args(argv)
    ctx = Context(args.data_dir, args.tool_data, args.embedding_model)
    try:
        if args.command is None:
            return _open_tui(ctx, args.study)
        if args.study is not None:
            raise InputError(None, "--study", "opens the TUI on a study's triage and takes no command")
        _ = ctx.settings  # loading the settings sets the input limit before any file is read
        return args.handler(args, ctx) or 0
    except BusyError as error:
        print(f"compass-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except InputError as error:
        print(f"compass-tui: {printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("compass-tui: interrupted; everything saved so far is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: one line for the user, the traceback in a log file
        log = _write_crash_log(ctx)
        print(
            f"compass-tui: internal error: {type(error).__name__}: {error} (details in {log})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        for note in ctx.notes:
            print(f"compass-tui: note: {note}", file=sys.stderr)


def _open_tui(ctx: Context, study: str | None = None) -> int:
    from compass_tui.app.app import run_app

    config = paths.config_file()
    if config is not None:  # the app reads the settings after its first frame; a broken file stops it here
        check_toml_file(config)

    if study is not None:
        from compass_tui.study import load_study

        load_study(ctx.store, study)  # an unknown study is bad input, before the terminal is taken
    return run_app(ctx, study=study)


def _write_crash_log(ctx: Context) -> Path:
    """The traceback, in the data dir's logs/, else (a data dir that is broken too) in the temp dir."""
    try:
        return _append_traceback(ctx.data_dir / "logs" / "crash.log")
    except Exception:
        return _append_traceback(Path(tempfile.gettempdir()) / "compass-tui-crash.log")


def _append_traceback(log: Path) -> Path:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(traceback.format_exc() + "\n")
    return log


if __name__ == "__main__":
    sys.exit(main())
