"""Tools for users testing their own custom layers."""
