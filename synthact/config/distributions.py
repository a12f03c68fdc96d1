"""Distributions over scene factors, as they are written in a BatchConfig.

Every randomized field accepts one of these YAML forms:

    fov_deg: 50                                   # fixed
    fov_deg: {min: 35, max: 70}                   # uniform (dist: uniform may be spelled out)
    fov_deg: {dist: normal, mean: 50, std: 8, min: 30, max: 80}   # normal, clipped
    fov_deg: {dist: choice, values: [35, 50, 85], weights: [1, 2, 1]}
    count:   {dist: int_range, min: 1, max: 3}    # integers, both ends included
    weather: [clear, fog]                         # categorical: a list is a uniform choice

A field's allowed range (e.g. distance > 0) is enforced on every number a distribution can
produce, so `camera.distance_m.min: must be > 0, got -1` is reported at validation time.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import math
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator

from synthact.rng import Stream

Real = Annotated[float, Field(strict=True)]  # YAML numbers only: "3" or true are not numbers
DECIMALS = 6  # sampled numbers are rounded so specs hash the same whatever libm computed log/cos


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


def weighted_index(stream: Stream, name: str, weights: tuple[float, ...] | None, n: int) -> int:
    if weights is None:
        return stream.below(name, n)
    cumulative = list(itertools.accumulate(weights))
    return min(bisect.bisect_right(cumulative, stream.uniform01(name) * cumulative[-1]), n - 1)


class _Range(StrictModel):
    """A distribution with optional `min` and `max` that must be ordered."""

    @model_validator(mode="after")
    def _ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class _Choice(StrictModel):
    """A weighted choice among `values` (equal weights when none are given)."""

    dist: Literal["choice"] = "choice"
    weights: list[Real] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise ValueError(f"weights has {len(self.weights)} entries but values has {len(self.values)}")
        if any(w < 0 for w in self.weights) or not sum(self.weights) > 0:
            raise ValueError("weights must be >= 0 and sum to more than 0")
        return self

    def sample(self, stream: Stream, name: str):
        w = None if self.weights is None else tuple(self.weights)
        return self.values[weighted_index(stream, name, w, len(self.values))]


class _Fixed(StrictModel):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"

    def sample(self, stream: Stream, name: str):
        return self.value

    def options(self) -> list:
        return [self.value]


# --- numbers --------------------------------------------------------------------------------

class FixedNumber(_Fixed):
    value: float

    def sample(self, stream: Stream, name: str) -> float:
        return float(self.value)



class UniformNumber(_Range):
    dist: Literal["uniform"] = "uniform"
    min: float
    max: float

    def sample(self, stream: Stream, name: str) -> float:
        return round(self.min + (self.max - self.min) * stream.uniform01(name), DECIMALS)



class NormalNumber(_Range):
    """Normal(mean, std) clipped to [min, max]; a bounded field needs the clip on that side."""

    dist: Literal["normal"] = "normal"
    mean: float
    std: Annotated[float, Field(strict=True, ge=0)]
    min: float | None = None
    max: float | None = None
    field_bounded_below: ClassVar[bool] = False
    field_bounded_above: ClassVar[bool] = False

    @model_validator(mode="after")
    def _clip_range(self):
        if self.field_bounded_below and self.min is None:
            raise ValueError("this field is bounded below: give the normal a 'min' to clip at")
        if self.field_bounded_above and self.max is None:
            raise ValueError("this field is bounded above: give the normal a 'max' to clip at")
        return self

    def sample(self, stream: Stream, name: str) -> float:
        x = self.mean + self.std * stream.normal(name)
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        return round(min(max(x, lo), hi), DECIMALS)



class ChoiceNumber(_Choice):
    values: list[float] = Field(min_length=1)

    def sample(self, stream: Stream, name: str) -> float:
        return float(super().sample(stream, name))



def _number_shorthand(value: Any) -> Any:
    if not isinstance(value, (dict, list)):
        return {"dist": "fixed", "value": value}
    if isinstance(value, list):
        return {"dist": "choice", "values": value}
    if isinstance(value, dict) and "dist" not in value:
        if "mean" in value or "std" in value:
            return {"dist": "normal", **value}
        if "min" in value or "max" in value:
            return {"dist": "uniform", **value}
    return value


def _bounds_name(bounds: dict[str, float]) -> str:
    return "".join(f"_{k}{v:g}".replace("-", "m").replace(".", "p") for k, v in bounds.items())


@functools.cache
def number_dist(gt: float | None = None, ge: float | None = None,
                lt: float | None = None, le: float | None = None):
    """The annotation for a randomized float field whose values must lie within the bounds."""
    bounds = {k: v for k, v in (("gt", gt), ("ge", ge), ("lt", lt), ("le", le)) if v is not None}
    bounded = Annotated[float, Field(strict=True, **bounds)]
    suffix = _bounds_name(bounds)
    fixed = create_model("Fixed" + suffix, __base__=FixedNumber, value=(bounded, ...))
    uniform = create_model("Uniform" + suffix, __base__=UniformNumber, min=(bounded, ...), max=(bounded, ...))
    normal = create_model("Normal" + suffix, __base__=NormalNumber, mean=(bounded, ...),
                          min=(bounded | None, None), max=(bounded | None, None))
    normal.field_bounded_below = gt is not None or ge is not None
    normal.field_bounded_above = lt is not None or le is not None
    choice = create_model("Choice" + suffix, __base__=ChoiceNumber,
                          values=(list[bounded], Field(min_length=1)))
    return Annotated[Union[fixed, uniform, normal, choice],
                     Field(discriminator="dist"), BeforeValidator(_number_shorthand)]


# --- integers -------------------------------------------------------------------------------

class FixedInt(_Fixed):
    value: int



class IntRange(_Range):
    """Uniform over the integers min..max, both included."""

    dist: Literal["int_range"] = "int_range"
    min: int
    max: int

    def sample(self, stream: Stream, name: str) -> int:
        return self.min + stream.below(name, self.max - self.min + 1)

    def options(self) -> list[int]:
        return list(range(self.min, self.max + 1))



class ChoiceInt(_Choice):
    values: list[int] = Field(min_length=1)

    def options(self) -> list[int]:
        return sorted(set(self.values))



def _int_shorthand(value: Any) -> Any:
    if not isinstance(value, (dict, list)):
        return {"dist": "fixed", "value": value}
    if isinstance(value, list):
        return {"dist": "choice", "values": value}
    if isinstance(value, dict) and "dist" not in value and ("min" in value or "max" in value):
        return {"dist": "int_range", **value}
    return value


@functools.cache
def int_dist(ge: int | None = None, le: int | None = None):
    """The annotation for a randomized integer field within [ge, le]."""
    bounds = {k: v for k, v in (("ge", ge), ("le", le)) if v is not None}
    bounded = Annotated[int, Field(strict=True, **bounds)]
    suffix = _bounds_name(bounds)
    fixed = create_model("FixedInt" + suffix, __base__=FixedInt, value=(bounded, ...))
    int_range = create_model("IntRange" + suffix, __base__=IntRange, min=(bounded, ...), max=(bounded, ...))
    choice = create_model("ChoiceInt" + suffix, __base__=ChoiceInt,
                          values=(list[bounded], Field(min_length=1)))
    return Annotated[Union[fixed, int_range, choice],
                     Field(discriminator="dist"), BeforeValidator(_int_shorthand)]


# --- categories -----------------------------------------------------------------------------

class FixedCategory(_Fixed):
    value: str


class ChoiceCategory(_Choice):
    values: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        if len(set(self.values)) != len(self.values):
            raise ValueError("values must not repeat (use weights instead)")
        return self

    def options(self) -> list[str]:
        return list(self.values)


def _category_shorthand(value: Any) -> Any:
    if not isinstance(value, (dict, list)):
        return {"dist": "fixed", "value": value}
    if isinstance(value, list):
        return {"dist": "choice", "values": value}
    return value


@functools.cache
def category_dist(*options: str):
    """The annotation for a randomized choice among named options."""
    option = Literal[options]  # type: ignore[valid-type]
    name = "".join(o.title().replace("_", "") for o in options)[:40]
    fixed = create_model("FixedCategory" + name, __base__=FixedCategory, value=(option, ...))
    choice = create_model("ChoiceCategory" + name, __base__=ChoiceCategory,
                          values=(list[option], Field(min_length=1)))
    return Annotated[Union[fixed, choice], Field(discriminator="dist"), BeforeValidator(_category_shorthand)]


@functools.cache
def name_dist(pattern: str):
    """The annotation for a randomized choice among names that are not known in advance (asset packs)."""
    name = Annotated[str, Field(pattern=pattern)]
    fixed = create_model("FixedName", __base__=FixedCategory, value=(name, ...))
    choice = create_model("ChoiceName", __base__=ChoiceCategory, values=(list[name], Field(min_length=1)))
    return Annotated[Union[fixed, choice], Field(discriminator="dist"), BeforeValidator(_category_shorthand)]
