"""Typed access to a YAML mapping that names the key path in every error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_MISSING = object()


class ConfigError(ValueError):
    """An invalid agent config: ``str(error)`` reads ``"<key path>: <problem>"``."""

    def __init__(self, field: str, value: Any, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def describe(value: Any) -> str:
    """Format a rejected value for an error message."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 120 else text[:117] + "..."


class MappingReader:
    """A YAML mapping and its key path, e.g. ``cameras[0].file``."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(
                path or "(top level)",
                data,
                f"expected a mapping of keys to values, got {describe(data)}",
            )
        self.data = data
        self.path = path

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def reject_unknown_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    self.key_path(str(key)),
                    key,
                    f"unknown key; expected one of {', '.join(sorted(allowed))}",
                )

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _MISSING:
            raise ConfigError(self.key_path(key), None, "missing required key")
        return default

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def child(self, key: str, required: bool = False) -> MappingReader:
        value = self.raw(key, _MISSING if required else {})
        return MappingReader(value, self.key_path(key))

    def children(self, key: str) -> list[MappingReader]:
        items = self.raw(key, [])
        if not isinstance(items, list):
            raise ConfigError(
                self.key_path(key), items, f"expected a list, got {describe(items)}"
            )
        return [
            MappingReader(item, f"{self.key_path(key)}[{index}]")
            for index, item in enumerate(items)
        ]

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                self.key_path(key),
                value,
                f"expected non-empty text, got {describe(value)}",
            )
        return value

    def optional_string(self, key: str) -> str | None:
        if not self.has(key):
            return None
        return self.string(key)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ConfigError(
                self.key_path(key),
                value,
                f"expected true or false, got {describe(value)}",
            )
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                self.key_path(key), value, f"expected a number, got {describe(value)}"
            )
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(
                self.key_path(key), value, f"expected a finite number, got {value}"
            )
        self._check_range(key, value, number, minimum, maximum, exclusive_minimum)
        return number

    def integer(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                self.key_path(key),
                value,
                f"expected a whole number, got {describe(value)}",
            )
        self._check_range(key, value, value, minimum, maximum, False)
        return value

    def _check_range(
        self,
        key: str,
        value: Any,
        number: float,
        minimum: float | None,
        maximum: float | None,
        exclusive_minimum: bool,
    ) -> None:
        if minimum is not None:
            too_small = number <= minimum if exclusive_minimum else number < minimum
            if too_small:
                bound = f"> {minimum:g}" if exclusive_minimum else f">= {minimum:g}"
                raise ConfigError(
                    self.key_path(key), value, f"must be {bound}, got {describe(value)}"
                )
        if maximum is not None and number > maximum:
            raise ConfigError(
                self.key_path(key),
                value,
                f"must be <= {maximum:g}, got {describe(value)}",
            )
