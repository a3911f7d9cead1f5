"""Neural networks behind some metrics (need PyTorch: ``pip install 'thgeval[deep]'``).

Each module holds one architecture with the parameter names of its released weights file,
so the original files load as they are. Import the modules directly
(``from thgeval.nets.syncnet import load_syncnet``): importing this package imports no torch.
"""
