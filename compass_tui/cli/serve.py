"""`compass-tui serve ...` (under construction)."""


def add_parser(commands) -> None:
    pass
