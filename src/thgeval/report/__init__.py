"""Turning stored rows into tables and files."""

from .files import markdown_table, write_outputs  # noqa: F401
from .leaderboard import Leaderboard, bootstrap_ci, build  # noqa: F401
