"""The base class of every generated contract model: shared model configuration lives here."""

from __future__ import annotations

from typing import Any

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

    def __class_getitem__(cls, item: Any) -> Any:
        # Generated models are not generic; pydantic's own refusal names neither the model
        # nor what to use instead. Subclasses that are generic pass through.
        if cls.__pydantic_generic_metadata__["parameters"]:
            return super().__class_getitem__(item)
        hint = (
            "; for a page of items use the runtime's generic opsconductor_shared.PaginatedResponse[Item]"
            if cls.__name__ == "PaginatedResponse"
            else ""
        )
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} is a contract model and takes no type "
            f"parameters{hint}"
        )
