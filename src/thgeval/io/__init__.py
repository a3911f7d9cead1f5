"""Video and audio in and out (PyAV)."""

from .clip import AUDIO_RATE, Clip, ClipReader, load_audio, load_audio_pcm16, load_clip  # noqa: F401
from .probe import ClipInfo, probe  # noqa: F401
from .write import write_clip  # noqa: F401
from .conform import ConformPolicy, plan as conform_plan, resize_frames  # noqa: F401
