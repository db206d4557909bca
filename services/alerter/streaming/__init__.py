"""The alerter of the distributed runtime as a faust-streaming app.

* ``app`` — ``AlerterApp``: the ``faust.App``, its topics, tables and agents (thin loops over the
  plain-Python matching, recorder and channels of ``services.alerter``);
* ``view`` — the subscriptions read from ``news.subscriptions`` (GlobalTable) → matching index;
* ``spikes`` — spike windows over the windowed table, decided by ``services.alerter.spikes``;
* ``config`` — faust options from newswatch settings, and which engine runs;
* ``service`` — ``FaustAlerterService``: what ``newswatch alerter`` runs on Kafka;
* ``main`` — a module-level ``app`` for ``faust -A services.alerter.streaming.main worker``.
"""
