"""The `coolkeras` command line."""
