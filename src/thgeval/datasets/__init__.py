"""Dataset adapters: read a THG test set the user has, for one split, and report on it.

``open_dataset("grid", ROOT, "unseen-test")`` → :class:`DatasetReport` (records, expected vs
found, every missing / unreadable / off-spec file). Nothing is downloaded, and for sets whose
licence forbids redistribution nothing of them is shipped: the user passes the official list.
"""

from .base import (  # noqa: F401
    KINDS, Adapter, DatasetReport, Expect, Problem, Record,
)
from .registry import adapters, get_adapter, load, open_dataset, register_adapter  # noqa: F401
