"""SNS operations over the AWS query protocol: handlers on the Python API."""
