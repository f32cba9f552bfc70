"""The package version, readable without importing Keras (`coolkeras --version`)."""

__version__ = "0.1.0"
