"""Hub side of over-the-air updates: signing key, signed images, image store, update driver."""
