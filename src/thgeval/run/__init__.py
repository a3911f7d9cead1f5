"""Running evaluations: pairing, conforming, the job graph, the results store."""

from ..io.conform import ConformPolicy  # noqa: F401
from .engine import RunResult, evaluate  # noqa: F401
from .store import Row, Store, load_series  # noqa: F401
