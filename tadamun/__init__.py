"""Tadamun: the platform social-solidarity networks use to run development programmes."""

__version__ = "0.1.0"
