"""EventBridge operations over AWS JSON 1.1: handlers on the Python API."""
