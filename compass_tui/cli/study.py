"""`compass-tui study ...` (under construction)."""


def add_parser(commands) -> None:
    pass
