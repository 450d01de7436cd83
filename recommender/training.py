"""Training and publishing the hybrid scorer (filled by the model work)."""

import logging

logger = logging.getLogger(__name__)


def train_and_publish():
    """Train the scorer on current data and publish it as the live ModelVersion (placeholder)."""
    logger.info("train_and_publish requested (scorer not implemented yet)")
    return None
