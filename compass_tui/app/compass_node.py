"""`self.app` typed as the CompassApp (its `ctx`, `today`) for the screens and widgets, at no runtime cost.

A screen or widget that reads the app's context names CompassNode first among its bases:
`class LibraryScreen(CompassNode, Screen)`. The type checker then sees textual's own typed getter
(`getters.app(CompassApp)`); at run time CompassNode is an empty class and textual's `app` answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual import getters
    from textual.message_pump import MessagePump

    from compass_tui.app.app import CompassApp

    class CompassNode(MessagePump):
        app = getters.app(CompassApp)

else:

    class CompassNode:
        """Only the type checker gives this class a body (see the module's docstring)."""
