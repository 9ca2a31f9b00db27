"""Fixtures of the AWS endpoint tests (from tests/support/aws_endpoint.py)."""

from aws_endpoint import aws, aws_factory

__all__ = ["aws", "aws_factory"]
