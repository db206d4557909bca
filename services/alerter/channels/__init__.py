"""Delivery channels: ``email`` (SMTP) and ``webhook`` (signed HTTP POST), plus retry timing.

Each sender sends one prepared message and raises ``DeliveryError`` (``retryable`` or not) on
failure; scheduling retries is the delivery worker's job, so a slow or failing receiver never
holds up the others.
"""

from services.alerter.channels.retry import backoff_delay

__all__ = ["backoff_delay"]
