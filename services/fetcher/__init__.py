"""The fetcher: polls news feeds politely and publishes every new item exactly once.

``FetcherService`` (in ``service``) is the role; the pure parts live in small modules:
``canonical`` (URL identity), ``parse`` (bytes → items), ``schedule`` (when to poll next),
``state`` (SQLite health, validators and the seen-items store), ``feeds`` (the feed list and
OPML), ``poll`` (one feed's HTTP exchange).
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
