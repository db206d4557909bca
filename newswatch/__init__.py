"""newswatch: an event-driven news monitoring pipeline.

The package holds the shared platform (settings, message contracts, the bus and its backends,
the query language, logging, metrics, the command line); the four services live in ``services``.
"""

import logging

__version__ = "0.1.0"
__all__ = ["__version__"]

logging.getLogger(__name__).addHandler(logging.NullHandler())
