"""Hearth hub core: event bus, states, services, entities, registry, storage."""
