"""Reusable widgets of the app (no engine calls in here)."""
