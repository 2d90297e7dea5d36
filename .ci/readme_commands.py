"""Print the commands of README.md's ```bash blocks, each followed by a NUL byte.

.ci/run runs every one of them, each in a fresh virtual environment, so that a command
the README shows is a command CI has run with exactly what it installs.

Usage:
    python .ci/readme_commands.py [README.md]
"""

import re
import sys
from pathlib import Path

BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def commands(text):
    """The text of each ```bash block, stripped."""
    return [block.strip() for block in BLOCK.findall(text)]


def main(argv):
    path = Path(argv[0] if argv else Path(__file__).parents[1] / "README.md")
    found = commands(path.read_text())
    if not found:
        sys.exit(f"{path}: no ```bash block")
    sys.stdout.write("".join(f"{command}\0" for command in found))


if __name__ == "__main__":
    main(sys.argv[1:])
