"""Tools for users testing their own custom layers."""

from coolkeras.testing.check_layer import (
    CHECKS,
    LayerCheckError,
    LayerCheckReport,
    check_layer,
)

__all__ = ["CHECKS", "LayerCheckError", "LayerCheckReport", "check_layer"]
