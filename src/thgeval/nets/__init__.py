"""Network architectures and the preprocessing that feeds them (torch is imported only by the
modules that need it)."""
