"""The alerter: match every tagged article against subscriptions, deliver by email and webhook.

Modules, each with one job:

* ``subscriptions`` — the subscription model and its durable store;
* ``matching`` — the pure matcher (an inverted index of subscriptions over terms, regions and
  event types, so thousands of subscriptions cost little per article);
* ``dedupe`` / ``outbox`` — the once-per-(subscription, article) record and the delivery queue,
  both in the alerter's SQLite file and written before the bus offsets are committed;
* ``channels`` — email (SMTP) and webhook (signed HTTP POST) senders;
* ``delivery`` — the worker that drains the outbox with retries and backoff;
* ``spikes`` — "more than N events in W minutes" counters that survive restarts;
* ``api`` — the HTTP API (subscriptions CRUD, unsubscribe);
* ``service`` — ``AlerterService``, the embedded-runtime consumer tying it together.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
