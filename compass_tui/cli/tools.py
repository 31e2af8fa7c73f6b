"""`compass-tui tools ...` (under construction)."""


def add_parser(commands) -> None:
    pass
