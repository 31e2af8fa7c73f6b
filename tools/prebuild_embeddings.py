"""`make embeddings`: the bundled catalogues' embeddings for the bundled model, into tool_data/embeddings/.

Each file is named by catalogue and by a key of the catalogue's texts and the model's fingerprint
(name, sha256 of its weights, sequence length), so a changed catalogue or model is never served an
old index: it is simply not found, and built on first use. Old files are removed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main() -> int:
    from compass_tui import paths
    from compass_tui.store import Store
    from compass_tui.tools.environment import ToolEnvironment

    target = paths.bundled_tool_data_dir() / "embeddings"
    with tempfile.TemporaryDirectory() as scratch:
        env = ToolEnvironment.create(Store(Path(scratch)), search_mode="embedding", cache_dir=Path(scratch))
        env.engine.prebuilt_dir = None  # build every index anew
        modes = env.warm_up(lambda line: print(line, file=sys.stderr))
        built = sorted((Path(scratch) / "embeddings").glob("*.npy"))
        target.mkdir(exist_ok=True)
        for old in target.glob("*.npy"):
            old.unlink()
        for path in built:
            (target / path.name).write_bytes(path.read_bytes())
            print(target / path.name)
    return 0 if set(modes.values()) == {"embedding"} else 1


if __name__ == "__main__":
    sys.exit(main())
