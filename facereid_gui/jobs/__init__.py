"""Functions that run in the worker thread (never in the UI thread): engine calls and image decoding.

They return plain data (numpy arrays, dataclasses, ``QImage``, which may be built outside the UI
thread); pages turn it into widgets.
"""
