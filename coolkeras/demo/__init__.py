"""The `coolkeras demo` programs."""
