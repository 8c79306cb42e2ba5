"""A payers file with several mistakes names every one of them on its one line, not "(and 1 more)"."""

from __future__ import annotations

import pytest

from app.payers import PayerConfigError
from app.payers.config import load_config


def test_every_problem_of_a_payers_file_is_named() -> None:
    config = {"payer": [{"id": "acme", "adaptor": "fhir-pas", "default": "maybe"}]}

    with pytest.raises(PayerConfigError) as raised:
        load_config(config)

    message = str(raised.value)
    assert "\n" not in message
    assert "more)" not in message
    assert "payer.0.adapter: Field required" in message
    assert "payer.0.adaptor: " in message  # the misspelled key the first problem used to hide
    assert "payer.0.default: " in message
