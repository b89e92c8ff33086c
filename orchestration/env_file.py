"""`.env` in the working directory, read before anything else by `productops`.

Variables already set in the environment win over the file (as with
`dagster dev`, which reads the same file). `PRODUCTOPS_NO_ENV_FILE=1` skips it:
the tests and the benchmark's child runs set it, so a developer's own `.env`
with live credentials never leaks into them.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_FILE = ".env"
NO_ENV_FILE = "PRODUCTOPS_NO_ENV_FILE"


def read_env_file(folder: Path | None = None) -> Path | None:
    """Load `<folder or cwd>/.env` into os.environ without overriding; the file read, if any."""
    if os.environ.get(NO_ENV_FILE, "").strip().lower() in ("1", "true", "yes"):
        return None
    path = (folder or Path.cwd()) / ENV_FILE
    if not path.is_file():
        return None
    from dotenv import load_dotenv

    load_dotenv(path, override=False)
    return path
