"""sign_up's arguments: a contact is kept only with consent and only while offering
(docs/security.md, "Contacts"); too long or of the wrong shape is refused."""

from __future__ import annotations

import pytest

from server.args import clean_args
from server.errors import DomainError
from server.rules import DEFAULT_SETTINGS


def sign_up(**args: object) -> dict[str, object]:
    return clean_args("sign_up", {"item_id": "i1", **args}, DEFAULT_SETTINGS)


def test_a_contact_is_kept_only_with_consent_while_offering() -> None:
    assert sign_up(on=True, contact=" a@b.nl ", consent=True) == {
        "item_id": "i1", "on": True, "contact": "a@b.nl"}
    assert sign_up(on=True, contact="a@b.nl", consent=False)["contact"] is None
    assert sign_up(on=True, contact="a@b.nl")["contact"] is None   # no consent given
    assert sign_up(on=False, contact="a@b.nl", consent=True)["contact"] is None
    assert sign_up(on=True, contact="   ", consent=True)["contact"] is None


@pytest.mark.parametrize(("args", "code"), [
    ({"on": True, "contact": "x" * 201, "consent": True}, "contact_too_long"),
    ({"on": True, "contact": "x" * 201, "consent": False}, "contact_too_long"),
    ({"on": "yes"}, "bad_args"),
    ({"on": True, "consent": "yes"}, "bad_args"),
    ({"on": True, "contact": 5, "consent": True}, "bad_args"),
])
def test_bad_sign_up_args_are_refused(args: dict[str, object], code: str) -> None:
    with pytest.raises(DomainError) as err:
        sign_up(**args)
    assert err.value.code == code


def test_merge_args() -> None:
    assert clean_args("merge_clusters", {"cluster_id": "a", "into_id": "b"},
                      DEFAULT_SETTINGS) == {"cluster_id": "a", "into_id": "b"}
    with pytest.raises(DomainError):
        clean_args("merge_clusters", {"cluster_id": "a"}, DEFAULT_SETTINGS)
