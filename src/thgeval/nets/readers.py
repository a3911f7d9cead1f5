"""Lip readers as plug-ins: a reader maps a clip (frames + 68-point landmarks) to text and to
per-frame visual speech features.

Built in: LipNet on GRID (two checkpoints of the PyTorch reference, through the weights
registry). Others (Auto-AVSR, AV-HuBERT, a user's own) register through the ``thgeval.readers``
entry point group: an entry point names a :class:`Reader` subclass or instance, e.g. in a
plug-in's ``pyproject.toml``::

    [project.entry-points."thgeval.readers"]
    my-reader = "my_package.reader:MyReader"

A reader implements :meth:`Reader.transcribe` and :meth:`Reader.features` on arrays; the
glue to a :class:`~thgeval.metrics.sample.Sample` (25 fps frames, the face track) is shared.
Loaded networks are kept on the reader object (a registry entry), one per device.
"""

from __future__ import annotations

import difflib
from importlib.metadata import entry_points

import numpy as np

from ..errors import ConfigError, MetricSkipped

DEFAULT_READER = "lipnet-grid-unseen"
_READERS: dict = {}
_LOADED = False


class Reader:
    """A lip reader. Subclasses set the attributes and implement the two array methods."""

    name: str = ""
    title: str = ""
    reference: str = ""
    weights: tuple[str, ...] = ()  # names in thgeval.weights
    fps: float = 25.0  # the frame rate the reader was trained at
    vocabulary: str = ""  # what it can say (GRID's 51 words, open English, …)

    def transcribe(self, frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray, *,
                   device: str = "cpu") -> str:  # pragma: no cover
        raise NotImplementedError

    def features(self, frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray, *,
                 device: str = "cpu") -> np.ndarray:  # pragma: no cover
        """(T, D) per-frame visual speech features of frames at :attr:`fps`."""
        raise NotImplementedError

    def why_not(self) -> str:
        from ..weights import find

        missing = [w for w in self.weights if find(w) is None]
        return "; ".join(f"run `thgeval weights fetch {w}`" for w in missing)

    def require(self) -> None:
        """Raise :class:`~thgeval.weights.WeightsMissing` (a skip naming the fetch command)
        before any decoding or face analysis, when a weights file is absent."""
        from ..weights import locate

        for w in self.weights:
            locate(w)

    # --- the glue to a Sample ------------------------------------------------------------
    def inputs(self, sample, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frames at the reader's rate and their landmarks and validity (face analysed once)."""
        self.require()
        return clip_inputs(sample, side, self.fps)

    def transcribe_sample(self, sample, side: str = "pred") -> str:
        frames, lm, valid = self.inputs(sample, side)
        return self.transcribe(frames, lm, valid, device=sample.options.device)

    def features_sample(self, sample, side: str = "pred") -> np.ndarray:
        frames, lm, valid = self.inputs(sample, side)
        return self.features(frames, lm, valid, device=sample.options.device)


def clip_inputs(sample, side: str, fps: float = 25.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A clip's frames at ``fps`` with the landmarks of the frames shown (the face track is of
    the native frames; resampled clips reuse it through the decoder's source index)."""
    try:
        track = sample.face(side)
    except ImportError:
        raise MetricSkipped("face analysis (thgeval.face) is not available in this installation") from None
    lm = np.asarray(track.landmarks, dtype=np.float64)
    valid = np.asarray(track.valid, dtype=bool)
    path = sample.path(side)
    native = sample.media.decoded(path)
    if abs(native.fps - fps) <= 1e-3 * fps:
        frames, idx = native.frames, np.arange(len(native.frames))
    else:
        d = sample.media.decoded(path, fps)
        frames, idx = d.frames, np.minimum(d.source_index, len(lm) - 1)
    if len(lm) < len(native.frames):
        raise MetricSkipped(f"face track has {len(lm)} frames, the clip {len(native.frames)}")
    return frames, lm[idx], valid[idx]


class LipNetReader(Reader):
    """LipNet (GRID) with a checkpoint of the PyTorch reference: LipNet's mouth crop at the
    checkpoint's 128×64, BGR, pixels / 255; greedy CTC decoding; features = second GRU output.

    The reference trained on crops cut from faces aligned to a 256-px template (160×80 then
    resized); LipNet's own crop (rizkiarm/LipNet) framing the mouth box is used here.
    """

    vocabulary = "GRID's 51 words (command colour preposition letter digit adverb)"

    def __init__(self, name: str, weights: str, title: str, input_size=(128, 64), bgr: bool = True):
        self.name, self.title, self.weights = name, title, (weights,)
        self.input_size, self.bgr = tuple(input_size), bgr
        self.reference = ("Assael et al. 2016 LipNet; network and checkpoint: VIPL-Audio-Visual-Speech-Understanding/"
                          "LipNet-PyTorch; crop: rizkiarm/LipNet videos.py")
        self._models: dict[str, object] = {}

    def _model(self, device: str):
        if device not in self._models:
            from ..weights import locate
            from .lipnet import load_lipnet

            self._models[device] = load_lipnet(locate(self.weights[0]), self.input_size, device)
        return self._models[device]

    def _run(self, frames, landmarks, valid, device):
        import torch

        from .mouth_roi import lipnet_crop

        model = self._model(device)
        crop, _ = lipnet_crop(frames, landmarks, valid, size=self.input_size)
        if self.bgr:
            crop = crop[..., ::-1]
        x = torch.from_numpy(np.ascontiguousarray(crop.transpose(3, 0, 1, 2))).float().div_(255.0)[None]
        with torch.no_grad():
            feats = model.features(x.to(device))
            logits = model.FC(feats)
        return feats[0].cpu().numpy(), logits[0].cpu().numpy()

    def transcribe(self, frames, landmarks, valid, *, device="cpu") -> str:
        from .lipnet import ctc_greedy

        _, logits = self._run(frames, landmarks, valid, device)
        return ctc_greedy(logits).lower()

    def features(self, frames, landmarks, valid, *, device="cpu") -> np.ndarray:
        return self._run(frames, landmarks, valid, device)[0]


def register_reader(reader: Reader) -> Reader:
    if not reader.name:
        raise ValueError("a reader needs a name")
    if reader.name in _READERS:
        raise ValueError(f"reader {reader.name!r} registered twice")
    _READERS[reader.name] = reader
    return reader


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    register_reader(LipNetReader("lipnet-grid-unseen", "lipnet-grid-unseen", "LipNet, GRID unseen speakers"))
    register_reader(LipNetReader("lipnet-grid-overlap", "lipnet-grid-overlap", "LipNet, GRID overlapped speakers"))
    for ep in entry_points(group="thgeval.readers"):
        obj = ep.load()
        register_reader(obj() if isinstance(obj, type) else obj)


def readers() -> list[Reader]:
    _load()
    return list(_READERS.values())


def get_reader(name: str | None = None) -> Reader:
    """A registered reader by name (None: :data:`DEFAULT_READER`)."""
    _load()
    key = (name or DEFAULT_READER).strip().lower()
    if key not in _READERS:
        close = difflib.get_close_matches(key, list(_READERS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; readers: {', '.join(_READERS)}"
        raise ConfigError(f"unknown lip reader {name!r}{hint}")
    return _READERS[key]
