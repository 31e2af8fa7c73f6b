"""`compass-tui annotate PACK`: open the TUI in annotator mode on a study pack."""

from __future__ import annotations

import sys
from pathlib import Path

from compass_tui.safe_text import printable
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    annotate = commands.add_parser("annotate", help="score a study pack in the TUI (blinded, resumable)")
    annotate.add_argument("pack", type=Path, help="the .pack.json file from `compass-tui study pack`")
    annotate.set_defaults(handler=annotate_command)


def annotate_command(args, ctx: Context) -> int:
    from compass_tui.app.app import run_app
    from compass_tui.study import load_pack, read_pack_journal

    load_pack(args.pack)  # a bad pack is a one-line error before the screen opens
    skipped = read_pack_journal(args.pack).skipped_note()
    if skipped:  # the screen shows it too; this line stays in the terminal after the TUI closes
        print(f"compass-tui: {printable(skipped)}", file=sys.stderr)
    return run_app(ctx, pack=args.pack)
