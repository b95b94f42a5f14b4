"""servicemodel reads the FSx model file itself: it must be the one botocore loads."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from fsx_backup_provider.aws import servicemodel


@pytest.fixture(autouse=True)
def fresh_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(servicemodel, "_SHAPES", None)
    servicemodel.string_rule.cache_clear()
    servicemodel.list_rule.cache_clear()
    yield
    servicemodel.string_rule.cache_clear()
    servicemodel.list_rule.cache_clear()


def botocore_shapes() -> dict:
    model = botocore.session.get_session().get_service_model("fsx")
    return {name: model.shape_for(name).metadata for name in model.shape_names}


def test_every_shape_limit_is_botocores() -> None:
    ours = servicemodel._shapes()
    theirs = botocore_shapes()
    assert set(ours) == set(theirs)
    for name, metadata in theirs.items():
        for key in ("min", "max", "pattern"):
            assert ours[name].get(key) == metadata.get(key), (name, key)


def test_rules_read_from_the_model() -> None:
    theirs = botocore_shapes()
    rule = servicemodel.string_rule("TagKey")
    assert (rule.min_length, rule.max_length) == (theirs["TagKey"]["min"], theirs["TagKey"]["max"])
    assert rule.pattern_text == theirs["TagKey"]["pattern"]
    assert servicemodel.max_backup_ids_per_describe() == theirs["BackupIds"]["max"]


def _write_model(root: Path, version: str, max_tags: int, gz: bool) -> None:
    """A copy of the installed model with another Tags limit, as AWS_DATA_PATH would hold."""
    model = botocore.loaders.create_loader().load_service_model("fsx", "service-2")
    model["shapes"]["Tags"]["max"] = max_tags
    folder = root / "fsx" / version
    folder.mkdir(parents=True)
    payload = json.dumps(model).encode()
    if gz:
        (folder / "service-2.json.gz").write_bytes(gzip.compress(payload))
    else:
        (folder / "service-2.json").write_bytes(payload)


@pytest.mark.parametrize("gz", [False, True])
def test_aws_data_path_overrides_like_botocore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gz: bool
) -> None:
    """The same search as botocore's Loader: a newer API version anywhere wins."""
    _write_model(tmp_path, "2999-01-01", max_tags=7, gz=gz)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert servicemodel.list_rule("Tags").max_items == 7
    session = botocore.session.get_session()
    assert session.get_service_model("fsx").shape_for("Tags").metadata["max"] == 7


def test_an_older_version_on_the_data_path_does_not_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_model(tmp_path, "2000-01-01", max_tags=7, gz=False)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert servicemodel.list_rule("Tags").max_items == botocore_shapes()["Tags"]["max"]
