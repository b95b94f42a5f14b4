"""The provider works end to end on the oldest and the newest Pulumi SDK it admits.

Each run builds (or reuses) a virtualenv outside the checkout, installs a
wheel of this checkout into it, and drives the real engine from it against
the emulator: see tools/sdk_smoke.py. The versions are printed, so `make
test`'s output names both SDKs.
"""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import sdk_smoke


@pytest.mark.parametrize("kind", sdk_smoke.KINDS)
def test_the_provider_end_to_end_on(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = sdk_smoke.run(kind)
    with capsys.disabled():
        print(f"\n{result.describe()}")
    installed = result.venv.versions
    if kind == "oldest":
        # Every runtime dependency really at the lower bound pyproject.toml admits.
        for pin in sdk_smoke.lower_bounds():
            requirement = Requirement(pin)
            [spec] = requirement.specifier
            assert installed[canonicalize_name(requirement.name)] == spec.version, pin
    else:
        assert installed["pulumi"] == sdk_smoke.newest_pulumi()
    assert result.most_in_flight > 4
