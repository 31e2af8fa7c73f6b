"""`compass-tui scoring ...` (under construction)."""


def add_parser(commands) -> None:
    pass
