"""S3FD as face_alignment packages it (``face_alignment/detection/sfd``), with its parameter names.

This is not the layout of :class:`thgeval.nets.s3fd.S3FDNet` (syncnet_python's ``sfd_face.pth``):
the parameters are named after the Caffe layers (``conv1_1`` … ``conv7_2``,
``conv3_3_norm``, ``<source>_mbox_conf`` / ``_mbox_loc``), fc6 is a plain 3×3 convolution
padded by 3 (no dilation) and every max pool rounds down, so the feature maps and the anchors
differ. Only the L2 normalisation layer is shared.

Network: VGG-16 conv1_1 … conv5_3 (3×3, ReLU) with 2×2 max pools after conv1_2, conv2_2,
conv3_3, conv4_3 and conv5_3; fc6 (3×3, pad 3) and fc7 (1×1); conv6_1/6_2 and conv7_1/7_2
(1×1 then 3×3 stride 2); conv3_3, conv4_3 and conv5_3 L2-normalised with learned scales
(initialised 10, 8, 5). Six sources (conv3_3, conv4_3, conv5_3, fc7, conv6_2, conv7_2) each
get a 3×3 confidence and a 3×3 location head; conv3_3's confidence head gives 3 background
scores and 1 face score and keeps the largest background ("max-out background label").

References
----------
S. Zhang, X. Zhu, Z. Lei, H. Shi, X. Wang and S. Z. Li, "S3FD: Single Shot Scale-invariant
Face Detector", ICCV 2017. A. Bulat, 1adrianb/face-alignment (BSD-3-Clause).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .s3fd import L2Norm
from .state import load_checked

# (name, in, out) of the VGG trunk; a 2×2 pool (floor) follows each block's last conv
_BLOCKS = [[("conv1_1", 3, 64), ("conv1_2", 64, 64)],
           [("conv2_1", 64, 128), ("conv2_2", 128, 128)],
           [("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256)],
           [("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512)],
           [("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512)]]
# detection sources: (head prefix, channels, confidence channels)
SOURCES = [("conv3_3_norm", 256, 4), ("conv4_3_norm", 512, 2), ("conv5_3_norm", 512, 2),
           ("fc7", 1024, 2), ("conv6_2", 512, 2), ("conv7_2", 256, 2)]
STRIDES = (4, 8, 16, 32, 64, 128)  # of the six sources; anchors are square, 4 × stride


class FAS3FD(nn.Module):
    """face_alignment's S3FD. ``forward`` returns, per source, the face probability map
    (N, H, W) (softmax over background/face) and the box offsets (N, 4, H, W)."""

    def __init__(self):
        super().__init__()
        for block in _BLOCKS:
            for name, cin, cout in block:
                setattr(self, name, nn.Conv2d(cin, cout, 3, 1, padding=1))
        self.fc6 = nn.Conv2d(512, 1024, 3, 1, padding=3)
        self.fc7 = nn.Conv2d(1024, 1024, 1, 1)
        self.conv6_1 = nn.Conv2d(1024, 256, 1, 1)
        self.conv6_2 = nn.Conv2d(256, 512, 3, 2, padding=1)
        self.conv7_1 = nn.Conv2d(512, 128, 1, 1)
        self.conv7_2 = nn.Conv2d(128, 256, 3, 2, padding=1)
        self.conv3_3_norm = L2Norm(256, 10.0)
        self.conv4_3_norm = L2Norm(512, 8.0)
        self.conv5_3_norm = L2Norm(512, 5.0)
        for name, ch, nconf in SOURCES:
            setattr(self, f"{name}_mbox_conf", nn.Conv2d(ch, nconf, 3, 1, padding=1))
            setattr(self, f"{name}_mbox_loc", nn.Conv2d(ch, 4, 3, 1, padding=1))

    def forward(self, x):
        taps = []
        for b, block in enumerate(_BLOCKS):
            for name, _, _ in block:
                x = F.relu(getattr(self, name)(x))
            if b >= 2:
                taps.append(x)  # conv3_3, conv4_3, conv5_3 before their pool
            x = F.max_pool2d(x, 2, 2)
        x = F.relu(self.fc7(F.relu(self.fc6(x))))
        fc7 = x
        x = F.relu(self.conv6_2(F.relu(self.conv6_1(x))))
        c6 = x
        x = F.relu(self.conv7_2(F.relu(self.conv7_1(x))))
        feats = [self.conv3_3_norm(taps[0]), self.conv4_3_norm(taps[1]), self.conv5_3_norm(taps[2]), fc7, c6, x]
        out = []
        for (name, _, _), f in zip(SOURCES, feats):
            conf = getattr(self, f"{name}_mbox_conf")(f)
            if conf.shape[1] == 4:
                conf = torch.cat([conf[:, :3].amax(dim=1, keepdim=True), conf[:, 3:]], dim=1)
            out.append((torch.softmax(conf, dim=1)[:, 1], getattr(self, f"{name}_mbox_loc")(f)))
        return out


def load_fa_s3fd(src) -> FAS3FD:
    """The network from a state dict or face_alignment's ``s3fd-619a316812.pth`` (a plain
    ``torch.save`` of the state dict), in eval mode."""
    net = FAS3FD()
    load_checked(net, src, "face_alignment's S3FD state dict (s3fd-619a316812.pth)")
    return net.eval()
