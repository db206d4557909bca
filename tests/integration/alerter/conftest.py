"""Fixtures of the alerter integration tests (helpers live in ``support``)."""

from tests.integration.alerter.support import smtp_server

__all__ = ["smtp_server"]
