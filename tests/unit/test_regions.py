"""Regions checked at preview against botocore's list, with an opt-out for newer ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsx_backup_provider.core.config import ProviderSettings
from fsx_backup_provider.core.process import process_state
from fsx_backup_provider.providers import regions
from fsx_backup_provider.providers.backup import FsxBackupProvider
from fsx_backup_provider.providers.copy import FsxBackupCopyProvider

FS = "fs-0123456789abcdef0"
BACKUP = "backup-0123456789abcdef0"


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    state = process_state()
    before = state.settings
    yield
    state.settings = before


def failures(provider: object, news: dict[str, object]) -> dict[str, str]:
    result = provider.check({}, news)  # type: ignore[attr-defined]
    return {f.property: f.reason for f in result.failures}


def test_a_known_region_passes_and_a_typo_names_near_ones_and_the_opt_out() -> None:
    assert regions.region_problem("eu-west-1") is None
    problem = regions.region_problem("us-est-1")
    assert problem is not None
    assert "'us-est-1' is not an FSx Region" in problem
    assert "'us-east-1'" in problem
    assert "pulumi config set fsx:skipRegionValidation true" in problem


def test_every_partition_counts() -> None:
    known = regions.known_regions()
    assert {"us-east-1", "cn-north-1", "us-gov-west-1"} <= known


def test_check_refuses_a_region_input_and_an_aws_region_config() -> None:
    process_state().settings = ProviderSettings(region="us-east-1")
    found = failures(FsxBackupProvider(), {"file_system_id": FS, "region": "eu-wset-1"})
    assert "'eu-wset-1' is not an FSx Region" in found["region"]
    process_state().settings = ProviderSettings(region="us-est-1")
    found = failures(FsxBackupProvider(), {"file_system_id": FS})
    assert found["region"].startswith("aws:region: 'us-est-1' is not an FSx Region")
    # A region input overrides aws:region: only the input is checked.
    assert failures(FsxBackupProvider(), {"file_system_id": FS, "region": "us-east-1"}) == {}


def test_a_copys_source_region_is_checked_too() -> None:
    process_state().settings = ProviderSettings(region="us-east-1")
    news = {"source_backup_id": BACKUP, "source_region": "eu-west-9"}
    found = failures(FsxBackupCopyProvider(), news)
    assert "'eu-west-9' is not an FSx Region" in found["source_region"]


def test_the_opt_out_lets_a_region_botocore_does_not_know_through() -> None:
    get = {"fsx:skipRegionValidation": "true", "aws:region": "xx-future-1"}.get
    process_state().settings = ProviderSettings.from_config(get)
    assert failures(FsxBackupProvider(), {"file_system_id": FS}) == {}
    with pytest.raises(ValueError, match="fsx:skipRegionValidation must be true or false"):
        ProviderSettings.from_config({"fsx:skipRegionValidation": "yes"}.get)


def test_a_badly_shaped_region_gets_one_message_not_two() -> None:
    found = failures(FsxBackupProvider(), {"file_system_id": FS, "region": "US_EAST_1"})
    assert "is not an FSx Region" not in found["region"]


def test_a_secret_region_is_not_quoted() -> None:
    news = {"file_system_id": FS, "region": "us-est-1", "secret_inputs": ["region"]}
    problem = failures(FsxBackupProvider(), news).get("region", "")
    assert "us-est-1" not in problem


def test_without_botocores_list_nothing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session

    def broken() -> None:
        raise RuntimeError("changed internals")

    regions.known_regions.cache_clear()
    monkeypatch.setattr(botocore.session, "get_session", broken)
    try:
        assert regions.known_regions() == frozenset()
        assert regions.region_problem("us-est-1") is None
    finally:
        monkeypatch.undo()
        regions.known_regions.cache_clear()
