"""Text embeddings of items and users: writes in services, reads in selectors."""
