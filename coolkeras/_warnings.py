"""`CoolkerasWarning`: the category of every warning coolkeras gives."""

__all__ = ["CoolkerasWarning"]


class CoolkerasWarning(UserWarning):
    """A warning from coolkeras (filter them with this category)."""
