"""Typed exceptions: the library raises these, the CLI prints their one-line message."""

from __future__ import annotations


class ThgevalError(Exception):
    """Base class of every error thgeval raises on purpose."""


class ClipError(ThgevalError):
    """A clip cannot be used: the message names the file and what is wrong with it."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class EmptyFileError(ClipError):
    pass


class NotAVideoError(ClipError):
    pass


class NoVideoStreamError(ClipError):
    pass


class TruncatedClipError(ClipError):
    pass


class MismatchError(ThgevalError):
    """Pred and GT differ (fps, length, size) and the chosen policy forbids conforming."""


class MetricSkipped(ThgevalError):
    """A metric cannot run on this input; the message is the reason stored with the row."""


class UnknownMetricError(ThgevalError, KeyError):
    def __str__(self):  # KeyError would quote the message
        return self.args[0] if self.args else ""


class ConfigError(ThgevalError):
    """Bad options or inputs given to a command."""
