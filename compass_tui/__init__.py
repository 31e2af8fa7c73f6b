"""compass-tui: a terminal workbench for evaluating LLM companion agents on ComPASS."""

__version__ = "0.1.0"
