"""How a clip's faces are analysed: the frozen settings record and the layer's version.

Everything that can change a :class:`~thgeval.face.FaceTrack` is a field here and part of
:attr:`FaceSettings.key`, which with :data:`FACE_VERSION` keys the on-disk cache.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import ConfigError

#: Bumped whenever a change to the face layer can move a landmark: old cache entries are
#: then never read again (the version is part of every cache key).
FACE_VERSION = 1

DETECTORS = ("hog", "cnn")


@dataclass(frozen=True)
class FaceSettings:
    """Settings of the face analysis of a clip (detector, scan rule, tracking, gaps).

    Parameters
    ----------
    detector : ``"hog"`` (dlib's frontal HOG + linear SVM detector, the default, about 10 ms
        per 360×288 frame) or ``"cnn"`` (dlib's MMOD CNN detector, better on profiles and
        hard light, about 0.5 s per frame on a CPU). Boxes of either are reported in the HOG
        detector's box convention, the one dlib's 68-point shape predictor was trained on.
    detect_every : a full-frame scan every this many frames (keyframes, the first frame
        included); frames in between search only around each face found in the previous
        frame (a region of interest, same detector). 1 scans every frame in full: the
        per-frame reference the default is tested against.
    max_side : full-frame scans run on the frame shrunk so its longer side is at most this
        many pixels (never enlarged): the cost of a scan stays bounded for HD and 4K.
    min_face : smallest face side, native pixels, searched for. When a keyframe with no face
        tracked finds no confident face at the base scale, it is scanned again enlarged (up
        to the scale where a ``min_face`` face fills the detector's window, within
        ``max_pixels``) and shrunk with a border (a face that fills the frame).
    max_pixels : the largest image (pixels) an enlarged fallback scan may create.
    pad : the border added around the frame for the big-face scan, as a share of its side.
    start_threshold : detector score (HOG: SVM margin; CNN: confidence) a face must reach in
        at least one frame to count as a face at all.
    track_threshold : lower score that keeps a face found once (hysteresis): frames of a
        turning head score below the start threshold yet are the same face. Ignored by the
        CNN detector, which reports only its own positive detections.
    roi_face : in region-of-interest scans, the frame is scaled so the face box is about
        this many pixels (the HOG window is 80 px), which bounds the cost of a tracked frame
        whatever the resolution.
    roi_margin : the search region extends this share of the box side beyond each side of
        the previous frame's box (head motion between frames).
    max_faces : most faces tracked at once (the largest); a crowd does not cost more.
    max_gap : gaps of at most this many frames inside the chosen face's track are filled by
        linear interpolation of boxes and landmarks and marked ``interpolated``; longer gaps
        and the frames before the first / after the last detection stay invalid.
    """

    detector: str = "hog"
    detect_every: int = 5
    max_side: int = 640
    min_face: int = 40
    max_pixels: int = 4_000_000
    pad: float = 0.25
    start_threshold: float = 0.0
    track_threshold: float = -0.8
    roi_face: int = 90
    roi_margin: float = 0.4
    max_faces: int = 4
    max_gap: int = 5

    def __post_init__(self):
        if self.detector not in DETECTORS:
            raise ConfigError(f"face detector must be one of {', '.join(DETECTORS)}; got {self.detector!r}")
        positive = ("detect_every", "max_side", "min_face", "max_pixels", "roi_face", "max_faces")
        for name in positive:
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"face setting {name} must be a positive integer; got {v!r}")
        if not isinstance(self.max_gap, int) or self.max_gap < 0:
            raise ConfigError(f"face setting max_gap must be an integer ≥ 0; got {self.max_gap!r}")
        if not 0 <= self.pad <= 1 or not 0 <= self.roi_margin <= 2:
            raise ConfigError(f"face settings pad (0–1) and roi_margin (0–2) out of range: {self.pad}, {self.roi_margin}")
        if self.track_threshold > self.start_threshold:
            raise ConfigError(
                f"face track_threshold ({self.track_threshold}) must not exceed start_threshold ({self.start_threshold})"
            )

    @property
    def key(self) -> str:
        """A stable text naming every field: part of cache keys and of evaluation cards."""
        return ",".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_key(cls, key: str) -> "FaceSettings":
        """Inverse of :attr:`key` (the settings stored with a cached track)."""
        kinds = {f.name: f.type for f in fields(cls)}
        out = {}
        for item in key.split(","):
            name, _, value = item.partition("=")
            if name not in kinds:
                raise ConfigError(f"unknown face setting {name!r} in {key!r}")
            cast = {"str": lambda v: v.strip("'"), "int": int, "float": float}[kinds[name]]
            out[name] = cast(value)
        return cls(**out)
