"""Python tools for Mimetic: checkpoint conversion, PyTorch reference models, parity fixtures."""
