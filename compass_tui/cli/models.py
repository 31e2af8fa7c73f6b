"""`compass-tui models ...` (under construction)."""


def add_parser(commands) -> None:
    pass
