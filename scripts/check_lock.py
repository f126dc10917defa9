"""Is requirements.lock still the resolution of pyproject.toml? (offline, for the test command)

Every dependency pyproject.toml declares (extras included) must be pinned in the lock at a
version its specifier accepts; otherwise `make lock` must be run. Exit status 1 names each miss.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    pins = {
        canonicalize_name(name): version
        for name, version in re.findall(
            r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)",
            (ROOT / "requirements.lock").read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    misses = []
    for text in declared:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            misses.append(f"{requirement.name}: not in requirements.lock")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            misses.append(
                f"{requirement.name}: locked {pinned}, pyproject asks {requirement.specifier}"
            )
    for miss in misses:
        print(f"requirements.lock is stale ({miss}); run `make lock`", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
