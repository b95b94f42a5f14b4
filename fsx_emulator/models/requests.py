"""Request values as every operation reads them: tags, optional members, ID selection
and pagination, each checked against the service model."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from moto.core.exceptions import InvalidToken
from moto.utilities.paginator import Paginator

from fsx_emulator import servicemodel
from fsx_emulator.exceptions import BadRequest

_T = TypeVar("_T")


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_key(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    """Tags as idempotency compares them: their order in the request does not matter."""
    return None if tags is None else tuple(sorted(tags.items()))


def optional_mapping(value: object, field_name: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequest(f"{field_name} must be an object.")
    return value


def optional_bool(value: object, field_name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{field_name} must be true or false.")
    return value


def select_by_ids(
    ids: object,
    list_shape: str,
    field_name: str,
    store: Mapping[str, _T],
    not_found: Callable[[str], Exception],
) -> list[_T]:
    """The resources named by `ids` in request order (duplicates once), or all of them."""
    if ids is None or ids == []:
        return list(store.values())
    selected: dict[str, _T] = {}
    for resource_id in servicemodel.check_ids(ids, list_shape, field_name):
        resource = store.get(resource_id)
        if resource is None:
            raise not_found(resource_id)
        selected[resource_id] = resource
    return list(selected.values())


def page(
    items: Sequence[_T],
    unique_attribute: str,
    max_results: object,
    next_token: object,
    query: dict[str, Any],
) -> tuple[list[_T], str | None]:
    """One page of `items`, with moto's paginator and the model's MaxResults/NextToken rules.

    The token names the first item of the next page, so a page boundary survives
    resources created or deleted between calls, as long as that item still exists.
    """
    limit = (
        None
        if max_results is None
        else servicemodel.check_integer(max_results, "MaxResults", "MaxResults")
    )
    token = servicemodel.check_optional_string(next_token, "NextToken", "NextToken")
    try:
        paginator = Paginator(
            max_results=limit,
            # Without MaxResults everything comes in one page, as moto answers too.
            max_results_default=len(items) or 1,
            starting_token=token,
            unique_attribute=unique_attribute,
            param_values_to_check=query,
        )
        one_page, following = paginator.paginate(list(items))
    except InvalidToken as error:
        raise BadRequest(
            "NextToken is not valid for this request: pass the NextToken of the previous "
            "response together with the same parameters."
        ) from error
    return one_page, following
