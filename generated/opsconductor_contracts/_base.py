"""The base class of every generated contract model: shared model configuration lives here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ContractModel"]


class ContractModel(BaseModel):
    """Base of every contract model.

    Unknown fields are ignored rather than rejected so that a consumer built against an older
    contracts release keeps working when a producer adds an optional field (the compatible
    change `opsconductor-contracts breaking` allows in a minor release). Models can be built
    from attributes of any object (rows, dataclasses) with `model_validate(obj)`.
    """

    model_config = ConfigDict(extra="ignore", from_attributes=True)
