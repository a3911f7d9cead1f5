"""LipNet (Assael, Shillingford, Whiteson, de Freitas 2016): sentence-level lip reading on GRID.

Three spatio-temporal convolutions (3×5×5, 3×5×5, 3×3×3; 32, 64, 96 channels; the first with
spatial stride 2), each followed by ReLU, channel dropout and 1×2×2 max-pooling; two
bidirectional GRUs of 256 units; a linear layer to 27 characters + the CTC blank; greedy CTC
decoding. Parameter names and layout follow the PyTorch reference
(VIPL-Audio-Visual-Speech-Understanding/LipNet-PyTorch ``model.py``), so its checkpoints load
as they are; the GRU input size follows from the input crop (128×64 there, 100×50 in the paper).

Input (B, 3, T, H, W) float, pixels / 255 in the reference's channel order (the PyTorch
checkpoints were trained on ``cv2.imread`` BGR crops). Parity with the reference on shared
random weights: tests/test_lipnet.py (golden values, tolerance 1e-5).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# The PyTorch reference's classes: 0 = CTC blank, 1 + i = LETTERS[i].
LETTERS = " ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = 0


def _out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def feature_size(width: int, height: int) -> int:
    """GRU input size for a W×H crop: 96 channels × the pooled spatial size."""
    h, w = height, width
    h, w = _out(h, 5, 2, 2) // 2, _out(w, 5, 2, 2) // 2  # conv1 (stride 2), pool1
    h, w = _out(h, 5, 1, 2) // 2, _out(w, 5, 1, 2) // 2  # conv2, pool2
    h, w = _out(h, 3, 1, 1) // 2, _out(w, 3, 1, 1) // 2  # conv3, pool3
    if h < 1 or w < 1:
        raise ValueError(f"a {width}×{height} crop is too small for LipNet")
    return 96 * h * w


class LipNet(nn.Module):
    """The LipNet network; ``input_size`` is the crop's (width, height)."""

    def __init__(self, input_size: tuple[int, int] = (128, 64), n_classes: int = 28, dropout: float = 0.5):
        super().__init__()
        self.input_size = tuple(input_size)
        self.conv1 = nn.Conv3d(3, 32, (3, 5, 5), (1, 2, 2), (1, 2, 2))
        self.pool1 = nn.MaxPool3d((1, 2, 2), (1, 2, 2))
        self.conv2 = nn.Conv3d(32, 64, (3, 5, 5), (1, 1, 1), (1, 2, 2))
        self.pool2 = nn.MaxPool3d((1, 2, 2), (1, 2, 2))
        self.conv3 = nn.Conv3d(64, 96, (3, 3, 3), (1, 1, 1), (1, 1, 1))
        self.pool3 = nn.MaxPool3d((1, 2, 2), (1, 2, 2))
        self.gru1 = nn.GRU(feature_size(*self.input_size), 256, 1, bidirectional=True)
        self.gru2 = nn.GRU(512, 256, 1, bidirectional=True)
        self.FC = nn.Linear(512, n_classes)
        self.dropout = nn.Dropout(dropout)
        self.dropout3d = nn.Dropout3d(dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → (B, T, 512): the second GRU's output, the visual speech features."""
        if tuple(x.shape[-2:]) != (self.input_size[1], self.input_size[0]):
            raise ValueError(f"LipNet built for {self.input_size[0]}×{self.input_size[1]} crops; got "
                             f"{x.shape[-1]}×{x.shape[-2]}")
        for conv, pool in ((self.conv1, self.pool1), (self.conv2, self.pool2), (self.conv3, self.pool3)):
            x = pool(self.dropout3d(torch.relu(conv(x))))
        x = x.permute(2, 0, 1, 3, 4).contiguous()  # (T, B, C, H, W)
        x = x.view(x.size(0), x.size(1), -1)
        x, _ = self.gru1(x)
        x, _ = self.gru2(self.dropout(x))
        return self.dropout(x).permute(1, 0, 2).contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → per-frame class scores (B, T, n_classes), before softmax."""
        return self.FC(self.features(x))


def ctc_greedy(scores, letters: str = LETTERS, blank: int = BLANK) -> str:
    """Best-path CTC decoding of one sequence's (T, C) scores: argmax per frame, repeats
    merged, blanks dropped, runs of spaces merged, ends stripped (as the reference's
    ``ctc_arr2txt``)."""
    path = np.asarray(scores).argmax(axis=-1)
    out, prev = [], None
    for k in path.tolist():
        if k != prev and k != blank:
            ch = letters[k - 1] if blank == 0 else letters[k]
            if not (ch == " " and out and out[-1] == " "):
                out.append(ch)
        prev = k
    return "".join(out).strip()


def load_lipnet(path, input_size: tuple[int, int] = (128, 64), device: str = "cpu") -> LipNet:
    """A LipNet with a checkpoint's weights (a state dict, as the reference saves), in eval mode."""
    model = LipNet(input_size)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {k.removeprefix("module."): v for k, v in state.items()}
    model.load_state_dict(state)
    return model.eval().to(device)
