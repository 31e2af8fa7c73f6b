"""`compass-tui runs ...` (under construction)."""


def add_parser(commands) -> None:
    pass
