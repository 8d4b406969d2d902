"""Errors a `genlab` user can cause, each with a hint that says what to do next."""

from __future__ import annotations


class GenlabError(Exception):
    """Base class: a message for the user plus a hint; the CLI prints both on one line."""

    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class DataError(GenlabError):
    """A data file is missing or malformed."""


class RunError(GenlabError):
    """A run directory is missing, incomplete or inconsistent."""
