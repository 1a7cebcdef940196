"""A simulated home for first runs, demos and tests."""

from .integration import DemoIntegration

INTEGRATION = DemoIntegration

__all__ = ["INTEGRATION"]
