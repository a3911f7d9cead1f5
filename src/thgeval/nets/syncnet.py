"""SyncNet (Chung & Zisserman 2016): the audio and lip towers, loading ``syncnet_v2.model``.

The layer layout (and so every state-dict key) is the one of the released model, as
joonson/syncnet_python's ``SyncNetModel.S`` names it: ``netcnnaud`` / ``netfcaud`` (audio:
13×20 MFCC → 1024-d) and ``netcnnlip`` / ``netfclip`` (lips: 5 frames of 224×224 BGR
pixels in 0–255 → 1024-d). The file is a ``torch.save`` of that state dict (the legacy
pre-1.6 serialisation for the released file; the zip format is read as well).

Inference differs from the reference in *how*, not *what* (:class:`FastLip`): batch norms
folded into the convolutions, the 5-frame first layer as a 2-D convolution over 15
channels, channels-last tensors; embeddings equal the reference's to float32 rounding
(max |Δ| ≤ 1e-5 of the embedding scale, ``tests/test_syncnet.py``).

References
----------
J. S. Chung and A. Zisserman, "Out of time: automated lip sync in the wild", Workshop on
Multi-view Lip-reading, ACCV 2016.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ThgevalError

EMBED_DIM = 1024
WINDOW = 5  # video frames per lip window
MFCC_PER_FRAME = 4  # 100 MFCC frames/s over 25 video frames/s
MFCC_WINDOW = 20

# (kind, args) per layer; the position in the list is the index in the state-dict key.
_AUDIO_CNN = [
    ("conv2", 1, 64, (3, 3), (1, 1), (1, 1)), ("bn2", 64), ("relu",), ("pool2", (1, 1), (1, 1), 0),
    ("conv2", 64, 192, (3, 3), (1, 1), (1, 1)), ("bn2", 192), ("relu",), ("pool2", (3, 3), (1, 2), 0),
    ("conv2", 192, 384, (3, 3), (1, 1), (1, 1)), ("bn2", 384), ("relu",),
    ("conv2", 384, 256, (3, 3), (1, 1), (1, 1)), ("bn2", 256), ("relu",),
    ("conv2", 256, 256, (3, 3), (1, 1), (1, 1)), ("bn2", 256), ("relu",), ("pool2", (3, 3), (2, 2), 0),
    ("conv2", 256, 512, (5, 4), (1, 1), (0, 0)), ("bn2", 512), ("relu",),
]
_LIP_CNN = [
    ("conv3", 3, 96, (5, 7, 7), (1, 2, 2), (0, 0, 0)), ("bn3", 96), ("relu",), ("pool3", (1, 3, 3), (1, 2, 2), 0),
    ("conv3", 96, 256, (1, 5, 5), (1, 2, 2), (0, 1, 1)), ("bn3", 256), ("relu",),
    ("pool3", (1, 3, 3), (1, 2, 2), (0, 1, 1)),
    ("conv3", 256, 256, (1, 3, 3), (1, 1, 1), (0, 1, 1)), ("bn3", 256), ("relu",),
    ("conv3", 256, 256, (1, 3, 3), (1, 1, 1), (0, 1, 1)), ("bn3", 256), ("relu",),
    ("conv3", 256, 256, (1, 3, 3), (1, 1, 1), (0, 1, 1)), ("bn3", 256), ("relu",),
    ("pool3", (1, 3, 3), (1, 2, 2), 0),
    ("conv3", 256, 512, (1, 6, 6), (1, 1, 1), (0, 0, 0)), ("bn3", 512), ("relu",),
]


def _layer(kind, *a):
    return {
        "conv2": lambda: nn.Conv2d(a[0], a[1], a[2], stride=a[3], padding=a[4]),
        "conv3": lambda: nn.Conv3d(a[0], a[1], a[2], stride=a[3], padding=a[4]),
        "bn2": lambda: nn.BatchNorm2d(a[0]), "bn3": lambda: nn.BatchNorm3d(a[0]),
        "relu": lambda: nn.ReLU(),
        "pool2": lambda: nn.MaxPool2d(a[0], stride=a[1], padding=a[2]),
        "pool3": lambda: nn.MaxPool3d(a[0], stride=a[1], padding=a[2]),
    }[kind]()


def _pair2(v):
    return tuple(v[1:]) if isinstance(v, (tuple, list)) else (v, v)


def _head() -> nn.Sequential:
    return nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, EMBED_DIM))


class SyncNet(nn.Module):
    """The two SyncNet towers with the released model's parameter names."""

    def __init__(self):
        super().__init__()
        self.netcnnaud = nn.Sequential(*(_layer(*spec) for spec in _AUDIO_CNN))
        self.netfcaud = _head()
        self.netfclip = _head()
        self.netcnnlip = nn.Sequential(*(_layer(*spec) for spec in _LIP_CNN))

    def forward_aud(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 13, 20) MFCC blocks → (N, 1024) audio embeddings."""
        return self.netfcaud(self.netcnnaud(x).flatten(1))

    def forward_lip(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 5, H, W) windows (BGR, 0–255) → (N, 1024); the reference's entry point."""
        return self.netfclip(self.netcnnlip(x).flatten(1))


class FastLip(nn.Module):
    """The lip tower for inference over a clip: every 5-frame window of a frame sequence.

    Equal to :meth:`SyncNet.forward_lip` on each window ``frames[v:v+5]`` up to float32
    rounding: batch norms are folded into the preceding convolutions (eval mode), the first
    convolution sees each window's 5 frames as 15 channels of a 2-D convolution, the later
    ones (temporal kernel 1) are 2-D, and tensors are channels-last (oneDNN's fast layout).
    """

    def __init__(self, net: SyncNet):
        super().__init__()
        layers = list(net.netcnnlip)
        convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv3d)]
        cl = torch.channels_last
        self.steps: list[tuple] = []
        for j, i in enumerate(convs):
            conv, bn = layers[i], layers[i + 1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            w = conv.weight * scale.view(-1, 1, 1, 1, 1)
            b = (conv.bias - bn.running_mean) * scale + bn.bias
            w = w.reshape(w.shape[0], -1, *w.shape[3:]) if j == 0 else w[:, :, 0]  # (out, 15, 7, 7) or 2-D
            self.register_buffer(f"w{j}", w.detach().contiguous(memory_format=cl))
            self.register_buffer(f"b{j}", b.detach().clone())
            pool = layers[i + 3] if i + 3 < len(layers) and isinstance(layers[i + 3], nn.MaxPool3d) else None
            self.steps.append((f"w{j}", f"b{j}", tuple(conv.stride[1:]), tuple(conv.padding[1:]),
                               None if pool is None else (_pair2(pool.kernel_size), _pair2(pool.stride),
                                                          _pair2(pool.padding))))
        self.head = net.netfclip

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, H, W) float frames (BGR, 0–255) → (T − 4, 1024) window embeddings."""
        t, c, h, w = frames.shape
        # One copy: the windows built in channels-last memory, (T-4, H, W, 3·5) with channel
        # c·5 + k (frame k of the window), viewed as (T-4, 15, H, W)
        x = frames.permute(0, 2, 3, 1).unfold(0, WINDOW, 1)  # (T-4, H, W, 3, 5)
        x = x.reshape(t - WINDOW + 1, h, w, c * WINDOW).permute(0, 3, 1, 2)
        for wname, bname, stride, pad, pool in self.steps:
            x = F.relu_(F.conv2d(x, getattr(self, wname), getattr(self, bname), stride=stride, padding=pad))
            if pool is not None:
                x = F.max_pool2d(x, pool[0], stride=pool[1], padding=pool[2])
        return self.head(x.flatten(1))


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``syncnet_v2.model``-format file (legacy or zip ``torch.save``)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt, truncated, or not a state dict
        raise ThgevalError(
            f"{path}: not a loadable SyncNet state dict ({type(e).__name__}: {str(e)[:120]}); "
            "check it with `thgeval weights verify syncnet_v2`"
        ) from None
    if isinstance(state, nn.Module):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise ThgevalError(f"{path}: expected a state dict, found {type(state).__name__}")
    return state


def load_syncnet(path: str | Path, device: str = "cpu") -> SyncNet:
    """Build :class:`SyncNet` from a ``syncnet_v2.model``-format file, in eval mode.

    Like the reference's ``loadParameters``, every tensor in the file is copied by name; a
    file lacking a parameter (or with an unknown or wrongly shaped one) is an error, except
    BatchNorm's ``num_batches_tracked`` counters, which files from before PyTorch 0.4.1 lack
    and inference never reads.
    """
    state = read_state_dict(path)
    with torch.device("meta"):  # no random initialisation: every tensor is copied from the file
        net = SyncNet()
    net = net.to_empty(device="cpu")
    own = net.state_dict()
    unknown = [k for k in state if k not in own]
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    shape = [k for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    if unknown or missing or shape:
        bad = (unknown + missing + shape)[:4]
        raise ThgevalError(f"{path}: not a SyncNet v2 state dict (mismatched keys or shapes: {', '.join(bad)} …)")
    with torch.no_grad():
        for k, v in own.items():
            if k not in state:  # a num_batches_tracked counter the file lacks
                v.zero_()
        for k, v in state.items():
            own[k].copy_(v)
    return net.to(device).eval()


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the released layout, scaled so activations stay O(1) (tests, benchmarks)."""
    g = torch.Generator().manual_seed(seed)
    net = SyncNet()
    out = {}
    for k, v in net.state_dict().items():
        if k.endswith("num_batches_tracked"):
            out[k] = torch.zeros_like(v)
        elif k.endswith("running_var"):
            out[k] = 0.5 + torch.rand(v.shape, generator=g)
        elif k.endswith("running_mean") or k.endswith("bias"):
            out[k] = 0.1 * torch.randn(v.shape, generator=g)
        elif v.ndim == 1:  # batch-norm scale
            out[k] = 0.8 + 0.4 * torch.rand(v.shape, generator=g)
        else:
            fan_in = int(np.prod(v.shape[1:]))
            out[k] = torch.randn(v.shape, generator=g) * float(np.sqrt(2.0 / fan_in))
    # first layers see 0–255 pixels and MFCCs of tens: keep their outputs O(1)
    out["netcnnlip.0.weight"] /= 128.0
    out["netcnnaud.0.weight"] /= 10.0
    return out


def save_state_dict(state: dict[str, torch.Tensor], path: str | Path, legacy: bool = True) -> Path:
    """Write a state dict as the released file is written (``torch.save``; legacy format by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


class SyncNetEmbedder:
    """Batched SyncNet inference on a device: lip windows of face crops, audio MFCC blocks.

    Parameters
    ----------
    path : a ``syncnet_v2.model``-format file.
    device : ``"cpu"``, ``"cuda"``, ``"cuda:1"``, … (TF32 is switched off on CUDA so the
        numbers stay float32-exact).
    batch_size : windows per forward pass (memory: ~4 MB per lip window on the CPU).
    """

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 32):
        self.device = torch.device(device)
        if self.device.type == "cuda":
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        self.net = load_syncnet(path, self.device)
        self.lip = FastLip(self.net).to(self.device).eval()
        self.batch_size = max(1, int(batch_size))

    @torch.inference_mode()
    def lips(self, crops_bgr: np.ndarray, n_windows: int | None = None) -> np.ndarray:
        """(T, H, W, 3) uint8 BGR crops → (n, 1024) float32, window v = frames [v, v+5).

        ``n_windows`` defaults to every window, T − 4.
        """
        n = len(crops_bgr) - WINDOW + 1 if n_windows is None else n_windows
        if n < 1 or n + WINDOW - 1 > len(crops_bgr):
            raise ValueError(f"{len(crops_bgr)} frames cannot give {n} windows of {WINDOW}")
        out = []
        for s in range(0, n, self.batch_size):
            e = min(n, s + self.batch_size)
            chunk = torch.from_numpy(np.ascontiguousarray(crops_bgr[s:e + WINDOW - 1]))
            chunk = chunk.to(self.device).permute(0, 3, 1, 2).float()
            out.append(self.lip(chunk).float().cpu())
        return torch.cat(out).numpy()

    @torch.inference_mode()
    def audio(self, mfcc: np.ndarray, n_windows: int) -> np.ndarray:
        """(M, 13) MFCC frames (100/s) → (n, 1024) float32, window v = MFCC frames [4v, 4v+20)."""
        cc = torch.from_numpy(np.ascontiguousarray(mfcc.T, dtype=np.float32))  # (13, M)
        if MFCC_PER_FRAME * (n_windows - 1) + MFCC_WINDOW > cc.shape[1]:
            raise ValueError(f"{cc.shape[1]} MFCC frames cannot give {n_windows} audio windows")
        blocks = cc.unfold(1, MFCC_WINDOW, MFCC_PER_FRAME)[:, :n_windows].permute(1, 0, 2)[:, None]
        out = []
        for s in range(0, n_windows, 4 * self.batch_size):  # small inputs: larger batches
            out.append(self.net.forward_aud(blocks[s:s + 4 * self.batch_size].contiguous().to(self.device)).float().cpu())
        return torch.cat(out).numpy()
