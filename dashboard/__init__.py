"""Accounts-receivable analytics dashboard."""

__version__ = "0.1.0"
