"""Data layer: the one place that knows SQL."""
